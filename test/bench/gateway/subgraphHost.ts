/**
 * Child process of the bench: the four example subgraphs on in-memory backends, seeded with the
 * bench's dataset, plus the supergraph composed from them, written to the file named by argv[2].
 * Prints one ready line.
 * With an issuer in argv[3] (AUTH_ISSUER), every subgraph verifies the forwarded bearer token.
 * The catalog also holds the products the staleness part changes, through a loopback endpoint
 * (stockControl.ts) whose URL is in the ready line.
 */
import { writeFileSync } from 'node:fs';
import { loadConfig } from '@trellis/kit';
import { createLogger } from '@trellis/kit';
import { launchSubgraph, type SubgraphFactory } from '@trellis/kit/internal/subgraph';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { usersSubgraphOf, typeDefs as usersSdl } from '../../../subgraphs/users';
import { catalogSubgraphOf, typeDefs as catalogSdl } from '../../../subgraphs/catalog';
import { ordersSubgraphOf, typeDefs as ordersSdl } from '../../../subgraphs/orders';
import { paymentsSubgraphOf, typeDefs as paymentsSdl } from '../../../subgraphs/payments';
import { READY_PREFIX, type SubgraphHostReady } from './protocol';
import { buildDataset } from './dataset';
import { serveStockControl } from './stockControl';
import type { StateStore } from '@trellis/kit';

// The bench's users, products, orders and payments instead of the examples' few (dataset.ts).
const data = buildDataset();
// The catalog's state store (its stock), kept for the stock endpoint when the catalog is built.
const catalogState: { store?: StateStore } = {};
const catalog = catalogSubgraphOf([...data.products, ...data.changing]);
const parts: Array<{ name: string; sdl: string; build: SubgraphFactory }> = [
  { name: 'users', sdl: usersSdl, build: usersSubgraphOf(data.users.map(({ id, name, email }) => ({ id, name, email }))) },
  {
    name: 'catalog',
    sdl: catalogSdl,
    build: (context) => {
      catalogState.store = context.backends.state;
      return catalog(context);
    },
  },
  { name: 'orders', sdl: ordersSdl, build: ordersSubgraphOf(data.orders) },
  { name: 'payments', sdl: paymentsSdl, build: paymentsSubgraphOf(data.payments) },
];

async function main(supergraphPath: string, authIssuer: string): Promise<void> {
  const config = loadConfig({ LOG_LEVEL: 'warn', NODE_ENV: 'production', SERVICE_NAME: 'bench-subgraphs', AUTH_ISSUER: authIssuer });
  const logger = createLogger({ service: 'bench-subgraphs', level: config.logLevel });
  const running = await Promise.all(parts.map(async (part) => ({ ...part, ...(await launchSubgraph(part.build, config, logger)) })));
  const composition = composeSupergraph(running.map(({ name, sdl, subgraph }) => ({ name, sdl, url: subgraph.url })));
  if (!composition.ok) throw new Error(`supergraph does not compose: ${composition.errors.join('; ')}`);
  writeFileSync(supergraphPath, composition.supergraphSdl);
  const control = await serveStockControl(catalogState.store!);
  const ready: SubgraphHostReady = { supergraphPath, urls: Object.fromEntries(running.map(({ name, subgraph }) => [name, subgraph.url])), stockControlUrl: control.url };
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(ready)}\n`);
  const stop = async () => {
    await Promise.all([control.close(), ...running.map((part) => part.stop())]);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

const [supergraphPath, authIssuer = ''] = process.argv.slice(2);
if (!supergraphPath) throw new Error('usage: subgraphHost.ts <supergraph file to write> [auth issuer]');
main(supergraphPath, authIssuer).catch((error: unknown) => {
  process.stderr.write(`bench subgraphs failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
