/**
 * `npm run bench:gateway`: what the Trellis gateway costs against plain Apollo Gateway (two
 * fetchers), Hive Gateway and the bare subgraph: same subgraphs and data, same tokens, same calls,
 * loopback, one target at a time, interleaved rounds. The runs: the realistic mix (the
 * headline), the repeated queries, fixed arrival rates, the deferred shape, and the staleness
 * window after an announced change on the targets that cache.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadBenchSettings, type BenchSettings } from './settings';
import { ACCOUNT, realisticWorkloads, repeatedWorkloads, type Call, type Workload } from './operations';
import { buildDataset } from './dataset';
import { TARGETS, type PreparedTarget, type Target, type TargetContext } from './targets';
import { readyLine, spawnProcess, waitFor, type BenchProcess } from './processes';
import { freePort } from '../../support/ports';
import { READY_PREFIX, type SubgraphHostReady } from './protocol';
import { probe } from './probe';
import { checkPrivateStaysPrivate, checkSubgraphsVerifyTokens, checkTokenReachesVerifier, checkWorkload, type Callers } from './checks';
import { measureLoad, warmUp } from './load';
import { holds, runFixedRate } from './fixedRate';
import { sampleUsage } from './usage';
import type { BenchRow, RateRow } from './table';
import { summarizeProfile } from './profile';
import { writeResultsSection } from './results';
import { report } from './report';
import { startOtlpSink } from './otlpSink';
import { deferredTable, measureDeferred, type DeferredRow } from './deferred';
import { measureStaleness, stalenessTable, type StalenessRow } from './staleness';
import { setStock } from './stockControl';
import type { Dataset } from './dataset';
import { seededRandom } from '../../support/random';
import { ENTITY_CHANGES_TOPIC, createChangeAnnouncer, createKafkaEventBus } from '@trellis/kit/internal/events';
import { DevIdentityProvider } from '@trellis/kit/internal/auth';
import { createLogger } from '@trellis/kit';
import { liftEnforcedSecurityFeatures } from '../../../gateway/auth/securityFeatures';

const BENCH_DIR = path.resolve(__dirname, '..');
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

interface RunningTarget {
  target: Target;
  prepared?: PreparedTarget;
  gateway?: BenchProcess;
  /** Why a workload cannot be measured on this target, by `<suite>/<workload>` (or for all, under '*'). */
  unavailable: Map<string, string>;
}

interface Suites {
  realistic: Workload[];
  repeated: Workload[];
}

const profileDir = () => path.join(BENCH_DIR, 'out', 'profile');
const settingsProfile = () => process.env.BENCH_PROFILE ?? '';

/** Starts the target's gateway and checks its answers to every distinct call, and that it verifies the token. */
async function startTarget(target: Target, context: Omit<TargetContext, 'port'>, suites: Suites, callers: Callers): Promise<RunningTarget> {
  const running: RunningTarget = { target, unavailable: new Map() };
  try {
    const prepared = await target.prepare({ ...context, port: await freePort() });
    running.prepared = prepared;
    const first = suites.realistic[0];
    if (prepared.spawn) {
      const spec = settingsProfile() === target.name ? { ...prepared.spawn, args: ['--cpu-prof', `--cpu-prof-dir=${profileDir()}`, ...prepared.spawn.args] } : prepared.spawn;
      const started = spawnProcess(target.name, spec);
      running.gateway = started;
      await waitFor(started, 'a GraphQL answer', async () => ((await probe(prepared.urlFor(first)!, first.calls[0].body, callers.genuine)).status === 200 ? true : undefined));
      if (prepared.notReady) {
        let reason: string | undefined;
        const ready = async () => {
          reason = await prepared.notReady!().catch((error: Error) => error.message);
          return reason ? undefined : true;
        };
        await waitFor(started, 'readiness', ready).catch((error: Error) => {
          throw new Error(started.hasExited() || !reason ? error.message : `not ready within 60 s: ${reason}`);
        });
      }
    }
    const checked = new Map<string, string | undefined>();
    for (const [suite, workloads] of Object.entries(suites) as Array<[string, Workload[]]>) {
      for (const workload of workloads) {
        const url = prepared.urlFor(workload);
        if (!url) {
          running.unavailable.set(`${suite}/${workload.name}`, `n/a: spans ${workload.subgraphs.length} subgraphs`);
          continue;
        }
        await checkTokenReachesVerifier(url, workload, callers);
        const problem = await checkWorkload(url, workload, target.denial, callers, checked);
        if (problem) {
          log(`${target.name} ${suite}/${workload.name}: ${problem}`);
          running.unavailable.set(`${suite}/${workload.name}`, `n/a: ${problem}`);
        }
      }
    }
    const account = suites.realistic.find((workload) => workload.name === ACCOUNT.shape)!;
    const accountUrl = prepared.urlFor(account);
    if (accountUrl) await checkPrivateStaysPrivate(accountUrl, account, callers);
    log(`${target.name}: ${checked.size} distinct calls probed`);
  } catch (error) {
    const reason = ((error as Error).message ?? String(error)).split('\n')[0];
    log(`${target.name} unavailable: ${(error as Error).message}`);
    running.unavailable.set('*', `n/a: ${reason}`);
    await running.gateway?.stop();
    running.gateway = undefined;
  }
  return running;
}

async function measureOne(run: RunningTarget, workload: Workload, subgraphs: BenchProcess, settings: BenchSettings, callers: Callers): Promise<BenchRow> {
  const options = {
    url: run.prepared!.urlFor(workload)!,
    workload,
    authorization: callers.authorization,
    denial: run.target.denial,
    connections: settings.connections,
    durationSeconds: settings.durationSeconds,
    warmupSeconds: settings.warmupSeconds,
  };
  await warmUp(options);
  const stopSampling = run.gateway ? sampleUsage(run.gateway.pid) : undefined;
  const stopSamplingSubgraphs = sampleUsage(subgraphs.pid);
  const load = await measureLoad(options);
  const row: BenchRow = { target: run.target.name, query: workload.name, load, usage: stopSampling?.(), subgraphUsage: stopSamplingSubgraphs() };
  log(`${run.target.name} ${workload.name}: ${load.requestsPerSecond.toFixed(0)} req/s, p50 ${load.p50Ms} ms, p99 ${load.p99Ms} ms${load.failures ? `, ${load.failures} failed` : ''}`);
  return row;
}

/** Rounds of every (workload, target) pair, the target order rotated each round, so noise hits all alike. */
async function measureRounds(suite: string, workloads: Workload[], running: RunningTarget[], subgraphs: BenchProcess, settings: BenchSettings, callers: Callers): Promise<BenchRow[]> {
  const samples = new Map<string, BenchRow[]>();
  const live = running.filter((run) => !run.unavailable.has('*'));
  for (let round = 0; round < settings.rounds; round++) {
    const order = live.map((_, i) => live[(i + round) % live.length]);
    for (const workload of workloads) {
      for (const run of order) {
        if (run.unavailable.has(`${suite}/${workload.name}`)) continue;
        const key = `${run.target.name}/${workload.name}`;
        samples.set(key, [...(samples.get(key) ?? []), await measureOne(run, workload, subgraphs, settings, callers)]);
      }
    }
    log(`${suite}: round ${round + 1}/${settings.rounds} done`);
  }
  return running.flatMap((run) =>
    workloads.map((workload) => {
      const reason = run.unavailable.get('*') ?? run.unavailable.get(`${suite}/${workload.name}`);
      return reason ? { target: run.target.name, query: workload.name, note: reason } : medianRound(samples.get(`${run.target.name}/${workload.name}`) ?? []);
    }),
  );
}

/** The round with the median throughput stands for the pair; the note gives the spread. */
function medianRound(rounds: BenchRow[]): BenchRow {
  const sorted = [...rounds].sort((a, b) => (a.load?.requestsPerSecond ?? 0) - (b.load?.requestsPerSecond ?? 0));
  const median = sorted[Math.floor(sorted.length / 2)];
  const rates = sorted.map((row) => (row.load?.requestsPerSecond ?? 0).toFixed(0));
  return { ...median, note: [median.note, rounds.length > 1 ? `req/s by round ${rates.join(' / ')}` : undefined].filter(Boolean).join('; ') };
}

/**
 * The mix at each arrival rate, ascending; at each rate every target still holding runs once per
 * round (order rotated), the round with the median p99 stands, and a target that does not hold a
 * rate is not sent a higher one.
 */
async function measureRates(mix: Workload, running: RunningTarget[], settings: BenchSettings, callers: Callers): Promise<RateRow[]> {
  const rows: RateRow[] = [];
  let live = running.filter((run) => run.gateway && !run.unavailable.has('*') && !run.unavailable.has(`realistic/${mix.name}`));
  for (const rate of settings.rates) {
    const samples = new Map<string, RateRow[]>();
    for (let round = 0; round < settings.rounds; round++) {
      for (const run of live.map((_, i) => live[(i + round) % live.length])) {
        const options = { url: run.prepared!.urlFor(mix)!, workload: mix, authorization: callers.authorization, denial: run.target.denial, rate, durationSeconds: settings.rateDurationSeconds, maxConnections: settings.rateConnections };
        // The same rate unmeasured first: connections open, and the gateway settles into it.
        await runFixedRate({ ...options, durationSeconds: settings.warmupSeconds });
        const stop = sampleUsage(run.gateway!.pid);
        const result = await runFixedRate(options);
        const row: RateRow = { target: run.target.name, rate, result, usage: stop(), held: holds(result) };
        log(`${run.target.name} @${rate}/s: ${result.achievedPerSecond.toFixed(0)}/s answered, p50 ${result.p50Ms.toFixed(1)} p99 ${result.p99Ms.toFixed(1)} p99.9 ${result.p999Ms.toFixed(1)} ms${row.held ? '' : ' (did not hold)'}`);
        samples.set(run.target.name, [...(samples.get(run.target.name) ?? []), row]);
      }
    }
    const medians = live.map((run) => {
      const sorted = [...samples.get(run.target.name)!].sort((a, b) => a.result!.p99Ms - b.result!.p99Ms);
      const median = sorted[Math.floor(sorted.length / 2)];
      const spread = sorted.length > 1 ? `p99 by round ${sorted.map((row) => row.result!.p99Ms.toFixed(0)).join(' / ')} ms` : undefined;
      return { ...median, held: median.held && sorted.filter((row) => row.held).length * 2 > sorted.length, note: spread };
    });
    rows.push(...medians);
    live = live.filter((run) => medians.find((row) => row.target === run.target.name)?.held);
    if (live.length === 0) break;
  }
  return rows;
}

/** The deferred shape on every gateway target (not `direct`: it spans four subgraphs). */
async function measureDeferredShape(realistic: Workload[], running: RunningTarget[], settings: BenchSettings, callers: Callers): Promise<DeferredRow[]> {
  const history = realistic.find((workload) => workload.name === 'four-subgraph')!;
  const calls = history.calls.slice(0, settings.deferredCalls);
  const rows: DeferredRow[] = [];
  for (const run of running.filter((candidate) => candidate.gateway)) {
    const url = run.prepared?.urlFor(history);
    const row = url && !run.unavailable.has('*') ? await measureDeferred(run.target.name, url, calls, callers.authorization) : { target: run.target.name, note: run.unavailable.get('*') ?? 'n/a' };
    log(`${run.target.name} deferred: ${JSON.stringify(row)}`);
    rows.push(row);
  }
  return rows;
}

/**
 * The staleness window on every target that caches (staleness.ts), one after another, with the
 * mix at BENCH_STALENESS_RATE beside; changes are announced on the Kafka the targets hear, as the
 * catalog announces its own.
 */
async function measureStalenessPart(running: RunningTarget[], mix: Workload, data: Dataset, settings: BenchSettings, callers: Callers, kafka: { brokers: string[]; topicPrefix: string }, stockControlUrl: string): Promise<StalenessRow[]> {
  const caching = running.filter((run) => run.target.learns);
  if (caching.length === 0) return [];
  const events = createKafkaEventBus({ brokers: kafka.brokers, clientId: 'bench-catalog', namespace: kafka.topicPrefix, partitions: 3, publishTimeoutMs: 5000 });
  // A change that cannot be published is given up after 5 s (logged), and then still old at the cap.
  const announce = createChangeAnnouncer({ events, source: 'catalog', logger: createLogger({ service: 'bench-catalog', level: 'warn' }), retryForMs: 5000 });
  // Kafka unreachable: every change would wait out its retries, so say so once instead.
  const unreachable = await Promise.race([
    events.ensureTopics([ENTITY_CHANGES_TOPIC]).then(() => undefined, (error: Error) => error.message),
    new Promise<string>((resolve) => setTimeout(() => resolve('no answer within 15 s'), 15_000).unref()),
  ]);
  if (unreachable) {
    await events.close().catch(() => undefined);
    return caching.map((run) => ({ target: run.target.name, learns: run.target.learns, note: `n/a: Kafka at ${kafka.brokers.join(',')} (BENCH_KAFKA_BROKERS): ${unreachable}` }));
  }
  const stock = new Map(data.changing.map((product) => [product.id, product.inStock]));
  const random = seededRandom(33);
  const rows: StalenessRow[] = [];
  try {
    for (const run of caching) {
      const url = run.prepared?.urlFor(mix);
      if (!run.gateway || !url || run.unavailable.has('*')) {
        rows.push({ target: run.target.name, learns: run.target.learns, note: run.unavailable.get('*') ?? 'n/a' });
        continue;
      }
      const load = settings.stalenessRate > 0 ? { url, workload: mix, authorization: callers.authorization, denial: run.target.denial, rate: settings.stalenessRate, maxConnections: settings.rateConnections } : undefined;
      const row = await measureStaleness({
        target: run.target.name,
        url,
        learns: run.target.learns!,
        products: data.changing,
        stock,
        authorization: callers.genuine.authorization,
        setStock: (id, available) => setStock(stockControlUrl, id, available),
        announce,
        changes: settings.stalenessChanges,
        capMs: settings.stalenessCapSeconds * 1000,
        pollMs: settings.stalenessPollMs,
        random,
        load,
      }).catch((error: Error): StalenessRow => ({ target: run.target.name, learns: run.target.learns, note: `n/a: ${error.message.split('\n')[0]}` }));
      log(`${run.target.name} staleness: ${JSON.stringify({ ...row, load: row.load && { achievedPerSecond: row.load.achievedPerSecond, p99Ms: row.load.p99Ms, failures: row.load.failures } })}`);
      rows.push(row);
    }
  } finally {
    await events.close();
  }
  return rows;
}

async function main(): Promise<void> {
  const settings = loadBenchSettings(path.join(BENCH_DIR, 'RESULTS.md'));
  const unknown = settings.targets.filter((name) => !TARGETS.some((target) => target.name === name));
  if (unknown.length) throw new Error(`BENCH_TARGETS: unknown ${unknown.join(', ')} (known: ${TARGETS.map((t) => t.name).join(', ')})`);
  const outDir = path.join(BENCH_DIR, 'out');
  mkdirSync(outDir, { recursive: true });
  const data = buildDataset();
  const suites: Suites = { realistic: realisticWorkloads(data), repeated: repeatedWorkloads(data) };
  const idpPort = await freePort();
  const authIssuer = `http://127.0.0.1:${idpPort}`;
  const identityProvider = new DevIdentityProvider({ issuer: authIssuer, audience: 'trellis', logger: createLogger({ service: 'bench-idp', level: 'warn' }) });
  await identityProvider.start(idpPort);
  // Longer than any run: a token expiring mid-bench would turn into failed responses.
  const tokens = new Map(await Promise.all(data.users.map(async (user) => [user.id, `Bearer ${await identityProvider.mint(user.id, user.scopes, 6 * 3600)}`] as const)));
  const firstToken = tokens.get(data.users[0].id)!;
  const callers: Callers = {
    authorization: (call: Call) => tokens.get(call.user.id)!,
    genuine: { authorization: firstToken },
    forged: { authorization: `${firstToken.slice(0, -4)}${firstToken.endsWith('AAAA') ? 'BBBB' : 'AAAA'}` },
  };
  log(`identity provider at ${authIssuer}, ${tokens.size} users with their own tokens`);
  const sink = await startOtlpSink();
  const subgraphs = spawnProcess('subgraphs', {
    command: process.execPath,
    args: ['--conditions=trellis-source', '--import', 'tsx', path.join(__dirname, 'subgraphHost.ts'), path.join(outDir, 'supergraph.graphql'), authIssuer],
    cwd: path.resolve(BENCH_DIR, '..', '..'),
    env: {},
  });
  try {
    const ready = await readyLine<SubgraphHostReady>(subgraphs, READY_PREFIX);
    log(`subgraphs up: ${Object.keys(ready.urls).join(', ')}`);
    await checkSubgraphsVerifyTokens(ready.urls, callers);
    const liftedSupergraphPath = path.join(outDir, 'supergraph-lifted.graphql');
    writeFileSync(liftedSupergraphPath, liftEnforcedSecurityFeatures(readFileSync(ready.supergraphPath, 'utf8')));
    const cacheRedis = { url: settings.cacheRedisUrl, prefix: `bench:entity:${Date.now()}:` };
    // A topic prefix per run: this run's gateways hear this run's changes only.
    const kafka = { brokers: settings.kafkaBrokers, topicPrefix: `bench-gateway-${Date.now()}.` };
    const context = { supergraphPath: ready.supergraphPath, liftedSupergraphPath, authIssuer, subgraphUrls: ready.urls, otlpUrl: sink.url, cacheRedis, kafka, log };
    const running: RunningTarget[] = [];
    const results: Parameters<typeof report>[1] = {};
    let deferred: DeferredRow[] | undefined;
    let staleness: StalenessRow[] | undefined;
    try {
      for (const target of TARGETS.filter((candidate) => settings.targets.includes(candidate.name))) {
        log(`starting ${target.name}`);
        running.push(await startTarget(target, context, suites, callers));
      }
      if (settings.suites.includes('realistic')) results.realistic = await measureRounds('realistic', suites.realistic, running, subgraphs, settings, callers);
      if (settings.suites.includes('repeated')) results.repeated = await measureRounds('repeated', suites.repeated, running, subgraphs, settings, callers);
      if (settings.suites.includes('fixed-rate')) results.rates = await measureRates(suites.realistic.find((workload) => workload.name === 'mix')!, running, settings, callers);
      if (settings.suites.includes('deferred')) deferred = await measureDeferredShape(suites.realistic, running, settings, callers);
      // Last: it changes products (ones no workload reads) and leaves them changed.
      if (settings.suites.includes('staleness')) staleness = await measureStalenessPart(running, suites.realistic.find((workload) => workload.name === 'mix')!, data, settings, callers, kafka, ready.stockControlUrl);
    } finally {
      await Promise.all(running.map((run) => run.gateway?.stop()));
    }
    const profile = settingsProfile() ? { target: settingsProfile(), summary: summarizeProfile(profileDir()) } : undefined;
    const tracing = settings.targets.some((name) => name.startsWith('trellis-otel'));
    const markdown =
      report(settings, results, { data, suites, profile, exported: tracing ? sink.stats() : undefined }) +
      (deferred ? `\n${deferredTable(deferred)}` : '') +
      (staleness?.length ? `\n${stalenessTable(staleness, settings.stalenessCapSeconds)}` : '');
    process.stdout.write(`${markdown}\n`);
    if (settings.resultsPath) {
      writeResultsSection(settings.resultsPath, markdown);
      log(`written to ${path.relative(process.cwd(), settings.resultsPath)}`);
    }
  } finally {
    await subgraphs.stop();
    await identityProvider.stop();
    await sink.stop();
  }
}

main().then(
  // Done: a Kafka client still retrying an unreachable broker (the staleness part's check) would hold the process for minutes.
  () => process.exit(0),
  (error: unknown) => {
    log(`failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
