/** A gateway in static mode over in-process example subgraphs (users, orders and catalog unless told), with a count of its subgraph fetches. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Env } from '@trellis/kit/internal/config';
import type { Subgraph, SubgraphFactory } from '@trellis/kit';
import type { Backends } from '@trellis/kit';
import type { AssembledGateway } from '../../gateway/assemble';
import { composeSupergraph } from '../../gateway/supergraph/compose';
import { usersSubgraph, typeDefs as usersSdl } from '../../subgraphs/users';
import { ordersSubgraph, typeDefs as ordersSdl } from '../../subgraphs/orders';
import { catalogSubgraph, typeDefs as catalogSdl } from '../../subgraphs/catalog';
import { paymentsSubgraph, typeDefs as paymentsSdl } from '../../subgraphs/payments';
import { sagasSubgraph, typeDefs as sagasSdl } from '../../subgraphs/sagas';
import { startGateway, startSubgraph, type InProcessGateway } from './inProcess';

export interface StaticPlatform {
  gateway: InProcessGateway;
  url: string;
  /** Fetches the gateway made to subgraphs so far (its fetch-duration histogram's count). */
  subgraphFetches(): Promise<number>;
  /** Stops one subgraph for real (its port closed), the gateway left pointing at it. */
  stopSubgraph(name: ExampleSubgraph): Promise<void>;
  stop(): Promise<void>;
}

export type ExampleSubgraph = 'users' | 'orders' | 'catalog' | 'payments' | 'sagas';

const EXAMPLES: Record<ExampleSubgraph, { sdl: string; factory: () => SubgraphFactory }> = {
  users: { sdl: usersSdl, factory: () => usersSubgraph },
  orders: { sdl: ordersSdl, factory: () => ordersSubgraph },
  catalog: { sdl: catalogSdl, factory: () => catalogSubgraph },
  payments: { sdl: paymentsSdl, factory: () => paymentsSubgraph },
  sagas: { sdl: sagasSdl, factory: () => sagasSubgraph() },
};

export interface StaticPlatformParts {
  /** Which example subgraphs run (users, orders and catalog unless told). */
  subgraphs?: readonly ExampleSubgraph[];
  /** A subgraph built otherwise than its example factory (one with a resolver held at a gate, say; its SDL stays the example's). */
  factories?: Partial<Record<ExampleSubgraph, SubgraphFactory>>;
}

/** `subgraphEnv`: the subgraphs' own (e.g. a test identity's issuer, so they verify the tokens the gateway forwards). */
export async function startStaticPlatform(
  env: Env = {},
  overrides: Partial<Pick<Backends, 'state' | 'cache'>> = {},
  subgraphEnv: Env = {},
  { subgraphs = ['users', 'orders', 'catalog'], factories = {} }: StaticPlatformParts = {},
): Promise<StaticPlatform> {
  const parts: Array<{ name: string; sdl: string; subgraph: Subgraph }> = [];
  for (const name of subgraphs) parts.push({ name, sdl: EXAMPLES[name].sdl, subgraph: await startSubgraph(factories[name] ?? EXAMPLES[name].factory(), subgraphEnv) });
  const composed = composeSupergraph(parts.map(({ name, sdl, subgraph }) => ({ name, sdl, url: subgraph.url })));
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-static-')), 'supergraph.graphql');
  writeFileSync(file, composed.supergraphSdl);
  let gateway: InProcessGateway;
  try {
    gateway = await startGateway({ SUPERGRAPH_PATH: file, ...env }, overrides);
  } catch (error) {
    for (const { subgraph } of parts) await subgraph.stop();
    throw error;
  }
  const metrics = (gateway.server as AssembledGateway).metrics;
  return {
    gateway,
    url: gateway.url,
    subgraphFetches: async () => {
      const { values } = await metrics.subgraphFetchDuration.get();
      return values.filter((value) => value.metricName?.endsWith('_count')).reduce((sum, value) => sum + value.value, 0);
    },
    stopSubgraph: async (name) => {
      const index = parts.findIndex((part) => part.name === name);
      if (index < 0) throw new Error(`${name} is not running in this platform`);
      await parts.splice(index, 1)[0].subgraph.stop();
    },
    stop: async () => {
      await gateway.stop();
      for (const { subgraph } of parts) await subgraph.stop();
    },
  };
}
