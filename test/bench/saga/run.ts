/**
 * `npm run bench:saga`: placeOrder sagas end to end, mutation to terminal state on the
 * subscription, on the platform `npm start` runs: embedded backends (the baseline), then real
 * Kafka + Redis + Consul. The platform runs as a child process; this process is the load generator.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startPlatform, type RunningPlatform } from '../../support/platform';
import { platformToken } from '../../support/identity';
import { postGraphQL } from '../../support/graphql';
import { machineFacts, writeResultsSection } from '../gateway/results';
import { loadSagaBenchSettings, type Backends, type SagaBenchSettings } from './settings';
import { planOrders, warmupOrders, type ProductStock } from './orders';
import { connectWorkers, runSagas } from './load';
import { watchForeignInstances } from './foreignInstances';
import { renderSagaTable, renderStateTable, type SagaRow } from './table';

const BENCH_DIR = path.resolve(__dirname, '..');
const log = (line: string) => process.stderr.write(`[bench:saga] ${line}\n`);

async function readStock(gatewayUrl: string): Promise<ProductStock[]> {
  const { body } = await postGraphQL<{ products: ProductStock[] }>(gatewayUrl, '{ products(first: 100) { id inStock } }');
  if (!body.data?.products?.length) throw new Error(`cannot read the catalog: ${JSON.stringify(body.errors ?? body)}`);
  return body.data.products;
}

/** The platform's own log of the run (LOG_LEVEL=warn), for when a row has errors. */
function keepOutput(backends: Backends, output: string): void {
  const file = path.join(BENCH_DIR, 'out', `saga-${backends}.log`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, output);
  log(`${backends}: platform log in ${path.relative(process.cwd(), file)}`);
}

const units = (stock: ProductStock[]) => stock.reduce((sum, product) => sum + product.inStock, 0);

async function benchBackends(backends: Backends, settings: SagaBenchSettings): Promise<SagaRow> {
  const row: SagaRow = { backends, label: backends === 'real' ? 'real (Kafka + Redis + Consul)' : 'embedded (dev hub)', sagas: settings.sagas, concurrency: settings.concurrency };
  let platform: RunningPlatform | undefined;
  const notes: string[] = [];
  try {
    log(`${backends}: starting the platform`);
    platform = await startPlatform({ backends, timeoutMs: 120_000 });
    const token = await platformToken(platform.base, 'u1');
    const stock = await readStock(platform.gatewayUrl);
    const orders = planOrders(stock, settings.sagas, settings.concurrency);
    log(`${backends}: up at ${platform.gatewayUrl}; ${units(stock)} units in stock, ${orders.filter((o) => o.paymentMethod === 'card-ok').length} card-ok orders planned`);
    const clients = connectWorkers(platform.gatewayUrl, token, settings.concurrency);
    try {
      const common = { gatewayUrl: platform.gatewayUrl, token, sagaTimeoutMs: settings.sagaTimeoutMs };
      if (settings.warmupSagas > 0) {
        const warm = await runSagas(clients, { ...common, orders: warmupOrders(stock, settings.warmupSagas) });
        log(`${backends}: warm-up ${warm.outcomes.length} sagas in ${warm.wallMs.toFixed(0)} ms, ${warm.errors.length} errors`);
      }
      const stopWatching = backends === 'real' ? watchForeignInstances(platform.base) : undefined;
      row.load = await runSagas(clients, { ...common, orders });
      const foreign = stopWatching?.();
      if (foreign?.size) notes.push(`other platforms' instances in Consul during the run: ${[...foreign].map(([name, seen]) => `${name} ×${seen.size}`).join(', ')}`);
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
    const completed = row.load.outcomes.filter((outcome) => outcome.state === 'COMPLETED').length;
    const left = units(await readStock(platform.gatewayUrl));
    if (left !== units(stock) - completed) notes.push(`stock after the run: ${left} units, expected ${units(stock) - completed}`);
    if (notes.length) row.note = notes.join('; ');
    log(`${backends}: ${row.load.outcomes.length} terminal, ${row.load.errors.length} errors in ${(row.load.wallMs / 1000).toFixed(1)} s`);
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    log(`${backends} failed: ${message}`);
    row.note = `n/a: ${message.split('\n')[0]}`;
  } finally {
    const code = await platform?.stop();
    if (platform && code !== 0 && code !== null) log(`${backends}: platform exited with ${code}`);
    if (platform) keepOutput(backends, platform.output());
  }
  return row;
}

function markdown(settings: SagaBenchSettings, rows: SagaRow[]): string {
  return [
    '## Sagas (`npm run bench:saga`)',
    '',
    ...machineFacts().map((fact) => `- ${fact}`),
    `- load: ${settings.sagas} placeOrder sagas per backend, ${settings.concurrency} in flight (one graphql-ws client each), after ${settings.warmupSagas} unmeasured; all through the gateway as u1, loopback`,
    '- orders: one unit each; card-ok orders spend the seeded stock (COMPLETED), the rest use a declined card (reserve, charge refused, release: COMPENSATED) so no order is refused for stock',
    '- **embedded (dev hub)**: `npm start` with no backend variables, the in-memory dev hub: the baseline',
    '- **real**: `npm start` on Kafka, Redis and Consul (test/stack), fresh key and topic prefixes',
    '',
    renderSagaTable(rows),
    '',
    renderStateTable(rows),
    '',
    'Latency: from sending placeOrder to receiving the terminal state on sagaStatus. sagas/s: terminal sagas divided by the wall time of the measured run.',
    '×embedded: this row divided by the embedded row (sagas/s above 1 is better; latency below 1 is better).',
  ].join('\n');
}

async function main(): Promise<void> {
  const settings = loadSagaBenchSettings(path.join(BENCH_DIR, 'RESULTS.md'));
  const rows: SagaRow[] = [];
  for (const backends of settings.backends) rows.push(await benchBackends(backends, settings));
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
