/** A gateway in static mode over in-process users, orders and catalog subgraphs, with a count of its subgraph fetches. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Env } from '@trellis/kit/internal/config';
import type { Subgraph } from '@trellis/kit';
import type { Backends } from '@trellis/kit';
import type { AssembledGateway } from '../../gateway/assemble';
import { composeSupergraph } from '../../gateway/supergraph/compose';
import { usersSubgraph, typeDefs as usersSdl } from '../../subgraphs/users';
import { ordersSubgraph, typeDefs as ordersSdl } from '../../subgraphs/orders';
import { catalogSubgraph, typeDefs as catalogSdl } from '../../subgraphs/catalog';
import { startGateway, startSubgraph, type InProcessGateway } from './inProcess';

export interface StaticPlatform {
  gateway: InProcessGateway;
  url: string;
  /** Fetches the gateway made to subgraphs so far (its fetch-duration histogram's count). */
  subgraphFetches(): Promise<number>;
  stop(): Promise<void>;
}

/** `subgraphEnv`: the subgraphs' own (e.g. a test identity's issuer, so they verify the tokens the gateway forwards). */
export async function startStaticPlatform(env: Env = {}, overrides: Partial<Pick<Backends, 'state' | 'cache'>> = {}, subgraphEnv: Env = {}): Promise<StaticPlatform> {
  const parts: Array<{ name: string; sdl: string; subgraph: Subgraph }> = [
    { name: 'users', sdl: usersSdl, subgraph: await startSubgraph(usersSubgraph, subgraphEnv) },
    { name: 'orders', sdl: ordersSdl, subgraph: await startSubgraph(ordersSubgraph, subgraphEnv) },
    { name: 'catalog', sdl: catalogSdl, subgraph: await startSubgraph(catalogSubgraph, subgraphEnv) },
  ];
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
    stop: async () => {
      await gateway.stop();
      for (const { subgraph } of parts) await subgraph.stop();
    },
  };
}
