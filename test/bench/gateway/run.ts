/**
 * `npm run bench:gateway`: what the Trellis gateway costs on top of plain Apollo Gateway (and
 * Hive Gateway, and the bare subgraph), same subgraphs, same queries, loopback, one target at a time.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadBenchSettings, type BenchSettings } from './settings';
import { QUERIES, type BenchQuery } from './queries';
import { TARGETS, type PreparedTarget, type Target, type TargetContext } from './targets';
import { readyLine, spawnProcess, waitFor, type BenchProcess } from './processes';
import { freePort } from '../../support/ports';
import { READY_PREFIX, type SubgraphHostReady } from './protocol';
import { cleanData, probe } from './probe';
import { measureLoad, warmUp } from './load';
import { sampleUsage } from './usage';
import { markdownTable, renderTable, type BenchRow } from './table';
import { summarizeProfile } from './profile';
import { machineFacts, writeResultsSection } from './results';
import { hiveVersion } from './hive';
import { DevIdentityProvider } from '../../../shared/auth';
import { createLogger } from '../../../shared/logging';
import { liftEnforcedSecurityFeatures } from '../../../gateway/auth/securityFeatures';

const BENCH_DIR = path.resolve(__dirname, '..');
const ROOT = path.resolve(BENCH_DIR, '..', '..');
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** Every request to every target is this caller's: the scopes the queries' protected fields need. */
const CALLER = { sub: 'u1', scopes: ['payments:read', 'users:email'] };

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

/** The request headers of the bench's caller, on every probe and every load request. */
let callerHeaders: Record<string, string> = {};

interface Measured {
  /** The gateway under test; none for direct. */
  gateway?: BenchProcess;
  subgraphs: BenchProcess;
}

async function benchQuery(target: Target, url: string, query: BenchQuery, { gateway, subgraphs }: Measured, settings: BenchSettings): Promise<BenchRow> {
  const options = { url, query: query.query, headers: callerHeaders, marker: query.marker, connections: settings.connections, durationSeconds: settings.durationSeconds, warmupSeconds: settings.warmupSeconds };
  await warmUp(options);
  const stopSampling = gateway ? sampleUsage(gateway.pid) : undefined;
  const stopSamplingSubgraphs = sampleUsage(subgraphs.pid);
  const load = await measureLoad(options);
  const row: BenchRow = { target: target.name, query: query.name, load, usage: stopSampling?.(), subgraphUsage: stopSamplingSubgraphs() };
  log(`${target.name} ${query.name}: ${load.requestsPerSecond.toFixed(0)} req/s, p50 ${load.p50Ms} ms, p99 ${load.p99Ms} ms`);
  return row;
}

interface RunningTarget {
  target: Target;
  prepared?: PreparedTarget;
  gateway?: BenchProcess;
  /** Why a query cannot be measured on this target, by query name (or for all, under '*'). */
  unavailable: Map<string, string>;
}

/** Starts the target's gateway and checks its answers (same data as the others, token verified). */
async function startTarget(target: Target, context: Omit<TargetContext, 'port'>): Promise<RunningTarget> {
  const running: RunningTarget = { target, unavailable: new Map() };
  try {
    const profiled = settingsProfile() === target.name;
    const prepared = await target.prepare({ ...context, port: await freePort() });
    running.prepared = prepared;
    if (prepared.spawn) {
      const spec = profiled ? { ...prepared.spawn, args: ['--cpu-prof', `--cpu-prof-dir=${profileDir()}`, ...prepared.spawn.args] } : prepared.spawn;
      running.gateway = spawnProcess(target.name, spec);
      const first = QUERIES[0];
      const started = running.gateway;
      await waitFor(started, 'a GraphQL answer', async () => ((await probe(prepared.urlFor(first)!, first.query, callerHeaders)).status === 200 ? true : undefined));
    }
    for (const query of QUERIES) {
      const url = prepared.urlFor(query);
      if (!url) {
        running.unavailable.set(query.name, `n/a: spans ${query.subgraphs.length} subgraphs`);
        continue;
      }
      await checkTokenReachesVerifier(url, query);
      const problem = checkAnswer(query, await probe(url, query.query, callerHeaders).then(cleanData, (error: Error) => error));
      if (problem) running.unavailable.set(query.name, `n/a: ${problem}`);
    }
  } catch (error) {
    const reason = ((error as Error).message ?? String(error)).split('\n')[0];
    log(`${target.name} unavailable: ${(error as Error).message}`);
    running.unavailable.set('*', `n/a: ${reason}`);
    await running.gateway?.stop();
    running.gateway = undefined;
  }
  return running;
}

/** Rounds of every (query, target) pair, the target order rotated each round, so noise hits all alike. */
async function measureRounds(running: RunningTarget[], subgraphs: BenchProcess, settings: BenchSettings): Promise<BenchRow[]> {
  const samples = new Map<string, BenchRow[]>();
  const live = running.filter((run) => !run.unavailable.has('*'));
  for (let round = 0; round < settings.rounds; round++) {
    const order = live.map((_, i) => live[(i + round) % live.length]);
    for (const query of QUERIES) {
      for (const run of order) {
        if (run.unavailable.has(query.name)) continue;
        const url = run.prepared!.urlFor(query)!;
        const row = await benchQuery(run.target, url, query, { gateway: run.gateway, subgraphs }, settings);
        samples.set(`${run.target.name}/${query.name}`, [...(samples.get(`${run.target.name}/${query.name}`) ?? []), row]);
      }
    }
    log(`round ${round + 1}/${settings.rounds} done`);
  }
  const rows: BenchRow[] = [];
  for (const run of running) {
    for (const query of QUERIES) {
      const reason = run.unavailable.get('*') ?? run.unavailable.get(query.name);
      if (reason) rows.push({ target: run.target.name, query: query.name, note: reason });
      else rows.push(medianRound(samples.get(`${run.target.name}/${query.name}`) ?? []));
    }
  }
  return rows;
}

/** The round with the median throughput stands for the pair; the note gives the spread. */
function medianRound(rounds: BenchRow[]): BenchRow {
  const sorted = [...rounds].sort((a, b) => (a.load?.requestsPerSecond ?? 0) - (b.load?.requestsPerSecond ?? 0));
  const median = sorted[Math.floor(sorted.length / 2)];
  const rates = sorted.map((row) => (row.load?.requestsPerSecond ?? 0).toFixed(0));
  return { ...median, note: [median.note, rounds.length > 1 ? `req/s by round ${rates.join(' / ')}` : undefined].filter(Boolean).join('; ') };
}

const profileDir = () => path.join(BENCH_DIR, 'out', 'profile');
const settingsProfile = () => process.env.BENCH_PROFILE ?? '';

function markdown(settings: BenchSettings, rows: BenchRow[], profile?: ReturnType<typeof summarizeProfile>): string {
  const apolloVersion = (JSON.parse(readFileSync(path.join(ROOT, 'node_modules/@apollo/gateway/package.json'), 'utf8')) as { version: string }).version;
  const targets = TARGETS.filter((target) => settings.targets.includes(target.name)).map((target) => `- **${target.name}**: ${target.description}`);
  return [
    '## Gateway (`npm run bench:gateway`)',
    '',
    ...machineFacts().map((fact) => `- ${fact}`),
    `- load: autocannon, ${settings.connections} connections, ${settings.durationSeconds} s measured after ${settings.warmupSeconds} s warm-up, per target and query, loopback;`,
    `  ${settings.rounds} interleaved rounds (every gateway runs throughout; each round measures every query on every target, the target order rotated), the median round shown`,
    `- versions: @apollo/gateway ${apolloVersion}, @graphql-hive/gateway ${hiveVersion()}`,
    '',
    ...targets,
    '',
    ...QUERIES.map((query) => `- \`${query.name}\` (${query.subgraphs.join(', ')}): \`${query.query}\``),
    `- every request to every target carries \`Authorization: Bearer <JWT>\` (ES256, sub ${CALLER.sub}, scopes ${CALLER.scopes.join(' ')}) from a dev identity provider in the runner process; the subgraphs verify it (AUTH_ISSUER) whichever gateway forwards it`,
    '',
    renderTable(rows),
    '',
    'RSS: peak resident memory of the gateway process during the measured run. CPU µs/req: its user+system CPU time divided by the requests served;',
    '"subgraphs CPU µs/req": the same for the one process that runs all four subgraphs (it drops when a gateway deduplicates subgraph calls).',
    '×apollo: this target divided by apollo on the same query (req/s above 1 is better; latency, RSS and CPU below 1 are better).',
    ...(profile ? ['', `### Where ${settingsProfile()}'s CPU time goes (V8 CPU profile over the whole run, self time, idle excluded)`, '', markdownTable(['area', '% of busy time'], profile.areas.map((a) => [a.name, a.percent.toFixed(1)])), '', markdownTable(['function', '% of busy time'], profile.functions.map((f) => [f.name, f.percent.toFixed(1)]))] : []),
  ].join('\n');
}

async function main(): Promise<void> {
  const settings = loadBenchSettings(path.join(BENCH_DIR, 'RESULTS.md'));
  const unknown = settings.targets.filter((name) => !TARGETS.some((target) => target.name === name));
  if (unknown.length) throw new Error(`BENCH_TARGETS: unknown ${unknown.join(', ')} (known: ${TARGETS.map((t) => t.name).join(', ')})`);
  const outDir = path.join(BENCH_DIR, 'out');
  mkdirSync(outDir, { recursive: true });
  const idpPort = await freePort();
  const authIssuer = `http://127.0.0.1:${idpPort}`;
  const identityProvider = new DevIdentityProvider({ issuer: authIssuer, audience: 'trellis', logger: createLogger({ service: 'bench-idp', level: 'warn' }) });
  await identityProvider.start(idpPort);
  // Longer than any run: a token expiring mid-bench would turn into failed responses.
  callerHeaders = { authorization: `Bearer ${await identityProvider.mint(CALLER.sub, CALLER.scopes, 6 * 3600)}` };
  log(`identity provider at ${authIssuer}`);
  const subgraphs = spawnProcess('subgraphs', {
    command: process.execPath,
    args: ['--import', 'tsx', path.join(__dirname, 'subgraphHost.ts'), path.join(outDir, 'supergraph.graphql'), authIssuer],
    cwd: ROOT,
    env: {},
  });
  let rows: BenchRow[] = [];
  try {
    const ready = await readyLine<SubgraphHostReady>(subgraphs, READY_PREFIX);
    log(`subgraphs up: ${Object.keys(ready.urls).join(', ')}`);
    await checkSubgraphsVerifyTokens(ready.urls);
    const liftedSupergraphPath = path.join(outDir, 'supergraph-lifted.graphql');
    writeFileSync(liftedSupergraphPath, liftEnforcedSecurityFeatures(readFileSync(ready.supergraphPath, 'utf8')));
    const context = { supergraphPath: ready.supergraphPath, liftedSupergraphPath, authIssuer, subgraphUrls: ready.urls, log };
    const running: RunningTarget[] = [];
    try {
      for (const target of TARGETS.filter((candidate) => settings.targets.includes(candidate.name))) {
        log(`starting ${target.name}`);
        running.push(await startTarget(target, context));
      }
      rows = await measureRounds(running, subgraphs, settings);
    } finally {
      await Promise.all(running.map((run) => run.gateway?.stop()));
    }
    const profile = settingsProfile() ? summarizeProfile(profileDir()) : undefined;
    const report = markdown(settings, rows, profile);
    process.stdout.write(`${report}\n`);
    if (settings.resultsPath) {
      writeResultsSection(settings.resultsPath, report);
      log(`written to ${path.relative(process.cwd(), settings.resultsPath)}`);
    }
  } finally {
    await subgraphs.stop();
    await identityProvider.stop();
  }
}

/** The caller's token with a broken signature. */
const forgedHeaders = () => ({ authorization: `${callerHeaders.authorization.slice(0, -4)}${callerHeaders.authorization.endsWith('AAAA') ? 'BBBB' : 'AAAA'}` });

/**
 * Every target must hand the token to something that verifies it (Trellis itself, else the
 * subgraphs): a forged one may not get a clean answer, or this target would skip the cost.
 */
async function checkTokenReachesVerifier(url: string, query: BenchQuery): Promise<void> {
  const answer = await probe(url, query.query, forgedHeaders());
  if (!(cleanData(answer) instanceof Error)) throw new Error(`a forged token gets a clean answer to ${query.name}: the token reaches no verifier`);
}

/**
 * The subgraphs must verify the forwarded token, or the targets that forward it would not pay the
 * same subgraph cost: a forged token must be refused and the bench's accepted.
 */
async function checkSubgraphsVerifyTokens(urls: Record<string, string>): Promise<void> {
  const url = Object.values(urls)[0];
  const forged = await probe(url, '{ __typename }', forgedHeaders());
  if (forged.status !== 401) throw new Error(`subgraphs accept a forged token (HTTP ${forged.status}): is AUTH_ISSUER reaching them?`);
  const genuine = await probe(url, '{ __typename }', callerHeaders);
  if (genuine.status !== 200 || genuine.errors?.length) throw new Error(`subgraphs refuse the bench's token: HTTP ${genuine.status} ${JSON.stringify(genuine.errors ?? [])}`);
}

main().catch((error: unknown) => {
  log(`failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
