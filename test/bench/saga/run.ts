/**
 * `npm run bench:saga`: placeOrder sagas end to end, mutation to terminal state on the
 * subscription, on the platform `npm start` runs: embedded backends (the baseline), then real
 * Kafka + Redis + Consul, each through a concurrency sweep (1, 20, 50, 100 in flight by default)
 * by many users. The platform runs as a child process; this process is the load generator.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { startPlatform, type RunningPlatform } from '../../support/platform';
import { platformToken } from '../../support/identity';
import { postGraphQL } from '../../support/graphql';
import { machineFacts, writeResultsSection } from '../gateway/results';
import { loadSagaBenchSettings, type Backends, type SagaBenchSettings } from './settings';
import { planSweep, warmupOrders, type ProductStock } from './orders';
import { benchUsers, runSagas } from './load';
import { watchForeignInstances } from './foreignInstances';
import { countCpu, platformProcesses } from './cpu';
import { readKafkaTraffic, trafficDelta } from './kafkaTraffic';
import { summarizeProfile } from '../gateway/profile';
import type { KafkaClientName } from '@trellis/kit/internal/events';
import { countErrors, renderCpuTable, renderKafkaTable, renderSagaTable, renderStateTable, type SagaRow } from './table';

const BENCH_DIR = path.resolve(__dirname, '..');
const log = (line: string) => process.stderr.write(`[bench:saga] ${line}\n`);

async function readStock(gatewayUrl: string): Promise<ProductStock[]> {
  const { body } = await postGraphQL<{ products: ProductStock[] }>(gatewayUrl, '{ products(first: 100) { id inStock } }');
  if (!body.data?.products?.length) throw new Error(`cannot read the catalog: ${JSON.stringify(body.errors ?? body)}`);
  return body.data.products;
}

/** The platform's own log of the run (LOG_LEVEL=warn), for when a row has errors. */
function keepOutput(run: string, output: string): void {
  const file = path.join(BENCH_DIR, 'out', `saga-${run}.log`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, output);
  log(`${run}: platform log in ${path.relative(process.cwd(), file)}`);
}

const units = (stock: ProductStock[]) => stock.reduce((sum, product) => sum + product.inStock, 0);
const labelOf = (backends: Backends, client?: KafkaClientName) => (backends === 'real' ? `real (Kafka via ${client} + Redis + Consul)` : 'embedded (dev hub)');

/** One platform per backend (and Kafka client); every concurrency level of the sweep runs on it, one after another. */
async function benchBackends(backends: Backends, settings: SagaBenchSettings, client?: KafkaClientName): Promise<SagaRow[]> {
  const levels = settings.concurrency.map((concurrency) => ({ concurrency, sagas: concurrency === 1 ? settings.soloSagas : settings.sagas }));
  const rows: SagaRow[] = levels.map((level) => ({ backends, label: labelOf(backends, client), ...level }));
  const run = client ? `${backends}-${client}` : backends;
  let platform: RunningPlatform | undefined;
  let processes: ReturnType<typeof platformProcesses> = [];
  const profileDir = path.join(BENCH_DIR, 'out', `saga-profile-${run}`);
  if (settings.profile) {
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
  }
  try {
    log(`${run}: starting the platform`);
    const env: Record<string, string> = settings.profile ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profileDir}`.trim() } : {};
    if (client) env.KAFKA_CLIENT = client;
    platform = await startPlatform({ backends, timeoutMs: 120_000, env });
    const base = platform.base;
    const tokens = await Promise.all(Array.from({ length: settings.users }, (_, i) => platformToken(base, `bench-user-${i + 1}`)));
    const users = benchUsers(platform.gatewayUrl, tokens);
    const stock = await readStock(platform.gatewayUrl);
    const plans = planSweep(stock, levels, settings.users);
    processes = platformProcesses(platform.pid, backends === 'real');
    log(`${run}: up at ${platform.gatewayUrl}; ${units(stock)} units in stock; ${settings.users} users; processes ${processes.map((p) => p.name).join(', ')}`);
    let completedSoFar = 0;
    try {
      const common = { gatewayUrl: platform.gatewayUrl, sagaTimeoutMs: settings.sagaTimeoutMs };
      if (settings.warmupSagas > 0) {
        const warm = await runSagas(users, Math.min(20, settings.warmupSagas), { ...common, orders: warmupOrders(stock, settings.warmupSagas, settings.users) });
        log(`${run}: warm-up ${warm.outcomes.length} sagas in ${warm.wallMs.toFixed(0)} ms${warm.errors.length ? `, errors: ${countErrors(warm.errors)}` : ''}`);
      }
      for (const [index, row] of rows.entries()) {
        const notes: string[] = [];
        const stopWatching = backends === 'real' ? watchForeignInstances(base) : undefined;
        const trafficBefore = backends === 'real' ? await readKafkaTraffic(base) : undefined;
        const stopCounting = countCpu(processes);
        row.load = await runSagas(users, row.concurrency, { ...common, orders: plans[index] });
        row.cpu = stopCounting();
        row.loadAverage = loadavg()[0];
        if (backends === 'real') row.kafka = trafficDelta(trafficBefore, await readKafkaTraffic(base));
        const foreign = stopWatching?.();
        if (foreign?.size) notes.push(`other platforms' instances in Consul during the run: ${[...foreign].map(([name, seen]) => `${name} ×${seen.size}`).join(', ')}`);
        completedSoFar += row.load.outcomes.filter((outcome) => outcome.state === 'COMPLETED').length;
        const left = units(await readStock(platform.gatewayUrl));
        if (left !== units(stock) - completedSoFar) notes.push(`stock after the run: ${left} units, expected ${units(stock) - completedSoFar}`);
        if (notes.length) row.note = notes.join('; ');
        log(`${run} ×${row.concurrency}: ${row.load.outcomes.length} terminal in ${(row.load.wallMs / 1000).toFixed(1)} s${row.load.errors.length ? `, errors: ${countErrors(row.load.errors)}` : ''}`);
      }
    } finally {
      await Promise.all(users.map((user) => user.client.dispose()));
    }
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    log(`${run} failed: ${message}`);
    for (const row of rows) if (!row.load) row.note = `n/a: ${message.split('\n')[0]}`;
  } finally {
    const code = await platform?.stop();
    if (platform && code !== 0 && code !== null) log(`${run}: platform exited with ${code}`);
    if (platform) keepOutput(run, platform.output());
    if (settings.profile) writeProfiles(run, labelOf(backends, client), profileDir, processes);
  }
  return rows;
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

function markdown(settings: SagaBenchSettings, rows: SagaRow[]): string {
  return [
    '## Sagas (`npm run bench:saga`)',
    '',
    ...machineFacts().map((fact) => `- ${fact}`),
    `- load: a sweep of ${settings.concurrency.join(', ')} sagas in flight, ${settings.sagas} placeOrder sagas per level (${settings.soloSagas} at 1 in flight), after ${settings.warmupSagas} unmeasured; all through the gateway, loopback`,
    `- users: ${settings.users} signed-in users, each with its own token and graphql-ws client (kept open between their sagas); orders go to users in turn`,
    '- orders: one unit each; card-ok orders spend the seeded stock (COMPLETED), shared out between the levels and going round all five products; the rest use a declined card (reserve, charge refused, release: COMPENSATED) so no order is refused for stock',
    '- **embedded (dev hub)**: `npm start` with no backend variables, the in-memory dev hub: the baseline',
    `- **real**: \`npm start\` on Kafka, Redis and Consul (test/stack), fresh key and topic prefixes; Kafka client (\`KAFKA_CLIENT\`): ${settings.kafkaClients.join(', ')}`,
    '',
    renderSagaTable(rows),
    '',
    renderStateTable(rows),
    '',
    '### CPU time per saga, by process',
    '',
    renderCpuTable(rows),
    '',
    '### Kafka traffic per saga',
    '',
    renderKafkaTable(rows),
    '',
    'Latency: from sending placeOrder to receiving the terminal state on sagaStatus. sagas/s: terminal sagas divided by the wall time of the measured run.',
    '×embedded: this row divided by the embedded row at the same concurrency (sagas/s above 1 is better; latency below 1 is better).',
    'CPU: user + system time of each process during the level (from /proc), divided by the sagas that ended; "CPU busy" is all of it over the wall time (the machine has 2 cores, so 200% is all of it; the load generator is not counted).',
    'Kafka traffic: requests by API and messages produced by all services during the level (their `trellis_kafka_requests_total` and `trellis_kafka_produced_messages_total`), and the broker\'s CPU, per saga that ended; `load` is the machine\'s 1-minute load average when the level ended (other work on the machine included).',
  ].join('\n');
}

async function main(): Promise<void> {
  const settings = loadSagaBenchSettings(path.join(BENCH_DIR, 'RESULTS.md'));
  const rows: SagaRow[] = [];
  for (const backends of settings.backends) {
    if (backends === 'embedded') rows.push(...(await benchBackends(backends, settings)));
    else for (const client of settings.kafkaClients) rows.push(...(await benchBackends(backends, settings, client)));
  }
  const report = markdown(settings, rows);
  process.stdout.write(`${report}\n`);
  if (settings.resultsPath) {
    writeResultsSection(settings.resultsPath, report, 'saga');
    log(`written to ${path.relative(process.cwd(), settings.resultsPath)}`);
  }
}

main().catch((error: unknown) => {
  log(`failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
