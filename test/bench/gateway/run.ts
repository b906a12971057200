/**
 * `npm run bench:gateway`: what the Trellis gateway costs on top of plain Apollo Gateway (and
 * Hive Gateway, and the bare subgraph), same subgraphs, same queries, loopback, one target at a time.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadBenchSettings, type BenchSettings } from './settings';
import { QUERIES, type BenchQuery } from './queries';
import { TARGETS, type Target, type TargetContext } from './targets';
import { freePort, readyLine, spawnProcess, waitFor, type BenchProcess } from './processes';
import { READY_PREFIX, type SubgraphHostReady } from './protocol';
import { cleanData, probe } from './probe';
import { measureLoad, warmUp } from './load';
import { sampleUsage } from './usage';
import { renderTable, type BenchRow } from './table';
import { machineFacts, writeResultsSection } from './results';
import { hiveVersion } from './hive';

const BENCH_DIR = path.resolve(__dirname, '..');
const ROOT = path.resolve(BENCH_DIR, '..', '..');
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** The data each query must return, taken from the first target that answers it. */
const expected = new Map<string, string>();

function checkAnswer(query: BenchQuery, answer: string | Error): string | undefined {
  if (answer instanceof Error) return answer.message;
  const reference = expected.get(query.name);
  if (reference === undefined) expected.set(query.name, answer);
  else if (reference !== answer) return `different data than the other targets: ${answer.slice(0, 200)}`;
  if (!answer.includes(query.marker)) return `answer lacks ${query.marker}`;
  return undefined;
}

interface Measured {
  /** The gateway under test; none for direct. */
  gateway?: BenchProcess;
  subgraphs: BenchProcess;
}

async function benchQuery(target: Target, url: string, query: BenchQuery, { gateway, subgraphs }: Measured, settings: BenchSettings): Promise<BenchRow> {
  const problem = checkAnswer(query, await probe(url, query.query).then(cleanData, (error: Error) => error));
  if (problem) return { target: target.name, query: query.name, note: `n/a: ${problem}` };
  const options = { url, query: query.query, marker: query.marker, connections: settings.connections, durationSeconds: settings.durationSeconds, warmupSeconds: settings.warmupSeconds };
  await warmUp(options);
  const stopSampling = gateway ? sampleUsage(gateway.pid) : undefined;
  const stopSamplingSubgraphs = sampleUsage(subgraphs.pid);
  const load = await measureLoad(options);
  const row: BenchRow = { target: target.name, query: query.name, load, usage: stopSampling?.(), subgraphUsage: stopSamplingSubgraphs() };
  log(`${target.name} ${query.name}: ${load.requestsPerSecond.toFixed(0)} req/s, p50 ${load.p50Ms} ms, p99 ${load.p99Ms} ms`);
  return row;
}

async function benchTarget(target: Target, context: Omit<TargetContext, 'port'>, subgraphs: BenchProcess, settings: BenchSettings): Promise<BenchRow[]> {
  const unavailable = (reason: string) => QUERIES.map((query) => ({ target: target.name, query: query.name, note: `n/a: ${reason}` }));
  let gateway: BenchProcess | undefined;
  try {
    const prepared = await target.prepare({ ...context, port: await freePort() });
    if (prepared.spawn) {
      gateway = spawnProcess(target.name, prepared.spawn);
      const first = QUERIES[0];
      const started = gateway;
      await waitFor(started, 'a GraphQL answer', async () => ((await probe(prepared.urlFor(first)!, first.query)).status === 200 ? true : undefined));
    }
    const rows: BenchRow[] = [];
    for (const query of QUERIES) {
      const url = prepared.urlFor(query);
      if (!url) rows.push({ target: target.name, query: query.name, note: `n/a: spans ${query.subgraphs.length} subgraphs` });
      else rows.push(await benchQuery(target, url, query, { gateway, subgraphs }, settings));
    }
    return rows;
  } catch (error) {
    const reason = ((error as Error).message ?? String(error)).split('\n')[0];
    log(`${target.name} unavailable: ${(error as Error).message}`);
    return unavailable(reason);
  } finally {
    await gateway?.stop();
  }
}

function markdown(settings: BenchSettings, rows: BenchRow[]): string {
  const apolloVersion = (JSON.parse(readFileSync(path.join(ROOT, 'node_modules/@apollo/gateway/package.json'), 'utf8')) as { version: string }).version;
  const targets = TARGETS.filter((target) => settings.targets.includes(target.name)).map((target) => `- **${target.name}**: ${target.description}`);
  return [
    '## Gateway (`npm run bench:gateway`)',
    '',
    ...machineFacts().map((fact) => `- ${fact}`),
    `- load: autocannon, ${settings.connections} connections, ${settings.durationSeconds} s measured after ${settings.warmupSeconds} s warm-up, per target and query, loopback`,
    `- versions: @apollo/gateway ${apolloVersion}, @graphql-hive/gateway ${hiveVersion()}`,
    '',
    ...targets,
    '',
    ...QUERIES.map((query) => `- \`${query.name}\` (${query.subgraphs.join(', ')}): \`${query.query}\``),
    '',
    renderTable(rows),
    '',
    'RSS: peak resident memory of the gateway process during the measured run. CPU µs/req: its user+system CPU time divided by the requests served;',
    '"subgraphs CPU µs/req": the same for the one process that runs all four subgraphs (it drops when a gateway deduplicates subgraph calls).',
    '×apollo: this target divided by apollo on the same query (req/s above 1 is better; latency, RSS and CPU below 1 are better).',
  ].join('\n');
}

async function main(): Promise<void> {
  const settings = loadBenchSettings(path.join(BENCH_DIR, 'RESULTS.md'));
  const unknown = settings.targets.filter((name) => !TARGETS.some((target) => target.name === name));
  if (unknown.length) throw new Error(`BENCH_TARGETS: unknown ${unknown.join(', ')} (known: ${TARGETS.map((t) => t.name).join(', ')})`);
  const outDir = path.join(BENCH_DIR, 'out');
  mkdirSync(outDir, { recursive: true });
  const subgraphs = spawnProcess('subgraphs', {
    command: process.execPath,
    args: ['--import', 'tsx', path.join(__dirname, 'subgraphHost.ts'), path.join(outDir, 'supergraph.graphql')],
    cwd: ROOT,
    env: {},
  });
  try {
    const ready = await readyLine<SubgraphHostReady>(subgraphs, READY_PREFIX);
    log(`subgraphs up: ${Object.keys(ready.urls).join(', ')}`);
    const context = { supergraphPath: ready.supergraphPath, subgraphUrls: ready.urls, log };
    const rows: BenchRow[] = [];
    for (const target of TARGETS.filter((candidate) => settings.targets.includes(candidate.name))) {
      log(`target ${target.name}`);
      rows.push(...(await benchTarget(target, context, subgraphs, settings)));
    }
    const report = markdown(settings, rows);
    process.stdout.write(`${report}\n`);
    if (settings.resultsPath) {
      writeResultsSection(settings.resultsPath, report);
      log(`written to ${path.relative(process.cwd(), settings.resultsPath)}`);
    }
  } finally {
    await subgraphs.stop();
  }
}

main().catch((error: unknown) => {
  log(`failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
