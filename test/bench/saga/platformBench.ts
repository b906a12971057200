/**
 * One platform under the saga bench: started as `npm start` starts it (a child process) on the
 * backends of its spec, warmed up, then measured one concurrency level at a time when the runner
 * asks, so the levels of several platforms can be interleaved (same load, same moment).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { startPlatform, type RunningPlatform } from '../../support/platform';
import { platformToken } from '../../support/identity';
import { postGraphQL } from '../../support/graphql';
import { summarizeProfile } from '../gateway/profile';
import type { Backends, SagaBenchSettings } from './settings';
import { planSweep, warmupOrders, type PlannedOrder, type ProductStock } from './orders';
import { benchUsers, runSagas, type BenchUser } from './load';
import { watchForeignInstances } from './foreignInstances';
import { countCpu, platformProcesses, type RedisServer } from './cpu';
import { readKafkaTraffic, trafficDelta } from './kafkaTraffic';
import { countErrors, type SagaRow } from './table';

export const BENCH_DIR = path.resolve(__dirname, '..');
export const log = (line: string) => process.stderr.write(`[bench:saga] ${line}\n`);

export interface PlatformSpec {
  backends: Backends;
  /** What its rows are called in the tables. */
  label: string;
  /** Its name in file names and log lines (`real-kafkajs`, `sentinel-ack1`). */
  run: string;
  /** The sweep it is measured at. */
  concurrency: number[];
  /** Extra variables for the platform (KAFKA_CLIENT, REDIS_MIN_REPLICAS_ACK...). */
  env: Record<string, string>;
  /** The state store's Redis variables instead of the stack's REDIS_URL (real backends). */
  redisEnv?: Record<string, string>;
  /** The Redis servers whose CPU counts, when not the stack's one. */
  redisServers?: () => Promise<RedisServer[]>;
  /** REDIS_MIN_REPLICAS_ACK of this platform, for the durability table. */
  replicaAck?: number;
}

export interface PlatformBench {
  rows: SagaRow[];
  /** Measures level `index` of the sweep; nothing when the platform did not start. */
  runLevel(index: number): Promise<void>;
  stop(): Promise<void>;
}

async function readStock(gatewayUrl: string): Promise<ProductStock[]> {
  const { body } = await postGraphQL<{ products: ProductStock[] }>(gatewayUrl, '{ products(first: 100) { id inStock } }');
  if (!body.data?.products?.length) throw new Error(`cannot read the catalog: ${JSON.stringify(body.errors ?? body)}`);
  return body.data.products;
}

const units = (stock: ProductStock[]) => stock.reduce((sum, product) => sum + product.inStock, 0);

/** The platform's own log of the run (LOG_LEVEL=warn), for when a row has errors. */
function keepOutput(run: string, output: string): void {
  const file = path.join(BENCH_DIR, 'out', `saga-${run}.log`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, output);
  log(`${run}: platform log in ${path.relative(process.cwd(), file)}`);
}

/** Where each platform process spent its time over the whole run (all levels), from its `--cpu-prof` profile. */
function writeProfiles(run: string, label: string, dir: string, processes: Array<{ pid: number; name: string }>): void {
  const sections: string[] = [`# Saga bench profile: ${label}`, ''];
  for (const { pid, name } of processes) {
    const summary = (() => {
      try {
        return summarizeProfile(dir, 15, pid);
      } catch {
        return undefined;
      }
    })();
    if (!summary) continue;
    sections.push(`## ${name}`, '', '| area | % of busy |', '| --- | ---: |', ...summary.areas.map((a) => `| ${a.name} | ${a.percent.toFixed(1)} |`), '');
    sections.push('| function | % of busy |', '| --- | ---: |', ...summary.functions.map((f) => `| ${f.name} | ${f.percent.toFixed(1)} |`), '');
  }
  const file = path.join(BENCH_DIR, 'out', `saga-profile-${run}.md`);
  writeFileSync(file, sections.join('\n'));
  log(`${run}: profiles summed in ${path.relative(process.cwd(), file)}`);
}

/** Starts the platform of `spec` and warms it up; a platform that fails to start gives rows that say why. */
export async function startPlatformBench(spec: PlatformSpec, settings: SagaBenchSettings): Promise<PlatformBench> {
  const { backends, run } = spec;
  const levels = spec.concurrency.map((concurrency) => ({ concurrency, sagas: concurrency === 1 ? settings.soloSagas : settings.sagas }));
  const rows: SagaRow[] = levels.map((level) => ({ backends, label: spec.label, replicaAck: spec.replicaAck, ...level }));
  const real = backends !== 'embedded';
  const profileDir = path.join(BENCH_DIR, 'out', `saga-profile-${run}`);
  let platform: RunningPlatform | undefined;
  let processes: ReturnType<typeof platformProcesses> = [];
  let users: BenchUser[] = [];
  let plans: PlannedOrder[][] = [];
  let stockAtStart = 0;
  let completedSoFar = 0;
  let failure: string | undefined;

  if (settings.profile) {
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
  }
  try {
    log(`${run}: starting the platform`);
    const env: Record<string, string> = { ...spec.env, ...(settings.profile ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profileDir}`.trim() } : {}) };
    platform = await startPlatform({ backends: real ? 'real' : 'embedded', timeoutMs: 120_000, env, redisEnv: spec.redisEnv });
    const tokens = await Promise.all(Array.from({ length: settings.users }, (_, i) => platformToken(platform!.base, `bench-user-${i + 1}`)));
    users = benchUsers(platform.gatewayUrl, tokens);
    const stock = await readStock(platform.gatewayUrl);
    stockAtStart = units(stock);
    plans = planSweep(stock, levels, settings.users);
    processes = platformProcesses(platform.pid, real, spec.redisServers ? await spec.redisServers() : undefined);
    log(`${run}: up at ${platform.gatewayUrl}; ${stockAtStart} units in stock; ${settings.users} users; processes ${processes.map((p) => p.name).join(', ')}`);
    if (settings.warmupSagas > 0) {
      const common = { gatewayUrl: platform.gatewayUrl, sagaTimeoutMs: settings.sagaTimeoutMs };
      const warm = await runSagas(users, Math.min(20, settings.warmupSagas), { ...common, orders: warmupOrders(stock, settings.warmupSagas, settings.users) });
      log(`${run}: warm-up ${warm.outcomes.length} sagas in ${warm.wallMs.toFixed(0)} ms${warm.errors.length ? `, errors: ${countErrors(warm.errors)}` : ''}`);
    }
  } catch (error) {
    failure = ((error as Error).message ?? String(error)).split('\n')[0];
    log(`${run} failed: ${failure}`);
  }

  const runLevel = async (index: number) => {
    const row = rows[index];
    if (failure || !platform) {
      row.note ??= `n/a: ${failure ?? 'not started'}`;
      return;
    }
    try {
      const notes: string[] = [];
      const stopWatching = real ? watchForeignInstances(platform.base, platform.backendEnv.CONSUL_NAMESPACE) : undefined;
      const trafficBefore = real ? await readKafkaTraffic(platform.base) : undefined;
      const stopCounting = countCpu(processes);
      row.load = await runSagas(users, row.concurrency, { gatewayUrl: platform.gatewayUrl, sagaTimeoutMs: settings.sagaTimeoutMs, orders: plans[index] });
      row.cpu = stopCounting();
      row.loadAverage = loadavg()[0];
      if (real) row.kafka = trafficDelta(trafficBefore, await readKafkaTraffic(platform.base));
      const foreign = stopWatching?.();
      if (foreign?.size) notes.push(`other platforms' instances in Consul during the run: ${[...foreign].map(([name, seen]) => `${name} ×${seen.size}`).join(', ')}`);
      completedSoFar += row.load.outcomes.filter((outcome) => outcome.state === 'COMPLETED').length;
      const left = units(await readStock(platform.gatewayUrl));
      if (left !== stockAtStart - completedSoFar) notes.push(`stock after the run: ${left} units, expected ${stockAtStart - completedSoFar}`);
      if (notes.length) row.note = notes.join('; ');
      log(`${run} ×${row.concurrency}: ${row.load.outcomes.length} terminal in ${(row.load.wallMs / 1000).toFixed(1)} s${row.load.errors.length ? `, errors: ${countErrors(row.load.errors)}` : ''}`);
    } catch (error) {
      failure = ((error as Error).message ?? String(error)).split('\n')[0];
      log(`${run} ×${row.concurrency} failed: ${failure}`);
      row.note = `n/a: ${failure}`;
    }
  };

  const stop = async () => {
    await Promise.all(users.map((user) => user.client.dispose()));
    const code = await platform?.stop();
    if (platform && code !== 0 && code !== null) log(`${run}: platform exited with ${code}`);
    if (platform) keepOutput(run, platform.output());
    if (settings.profile) writeProfiles(run, spec.label, profileDir, processes);
  };

  return { rows, runLevel, stop };
}
