/**
 * Two small subgraphs for the entity cache's tests, served by the kit on real HTTP servers:
 * `shelf` lists products (its root field declares 30 s), `stock` resolves `Product.inStock`
 * (the type declares 60 s), `Product.price` (5 s) and `Product.wished` (60 s, private), counting every representation it is asked
 * for, and failing for a product whose stock is set to `null`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GraphQLError } from 'graphql';
import type Redis from 'ioredis';
import type { Subgraph } from '@trellis/kit';
import { composeSupergraph } from '../../gateway/supergraph/compose';
import { eventually, postGraphQL } from './graphql';
import { startGateway, startSubgraph, type InProcessGateway } from './inProcess';
import { metricSum } from './metrics';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';
/** Apollo's `@cacheControl`, declared as every subgraph that uses it declares it. */
export const CACHE_CONTROL_SDL = `
  enum CacheControlScope { PUBLIC PRIVATE }
  directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
`;

const shelfSdl = `
  ${LINK}
  ${CACHE_CONTROL_SDL}
  type Query { products(upcs: [ID!]!): [Product!]! @cacheControl(maxAge: 30) }
  type Product @key(fields: "upc") { upc: ID! label: String @cacheControl(maxAge: 0) }
`;

const stockSdl = `
  ${LINK}
  ${CACHE_CONTROL_SDL}
  type Product @key(fields: "upc") @cacheControl(maxAge: 60) {
    upc: ID!
    inStock: Int
    price: Float @cacheControl(maxAge: 5)
    wished: Boolean @cacheControl(maxAge: 60, scope: PRIVATE)
  }
`;

export interface EntityCacheGraph {
  supergraphPath: string;
  /** Stock by upc; `null`: resolving it fails. */
  stock: Map<string, number | null>;
  /** Every representation `stock` was asked for, in order. */
  asked: string[];
  /** The `upcs` of every `products` root fetch `shelf` answered, in order. */
  listed: string[][];
  stop(): Promise<void>;
}

export async function startEntityCacheGraph(): Promise<EntityCacheGraph> {
  const stock = new Map<string, number | null>([
    ['1', 10],
    ['2', 20],
    ['3', 30],
  ]);
  const asked: string[] = [];
  const listed: string[][] = [];
  const shelf: Subgraph = await startSubgraph(
    () => ({
      name: 'shelf',
      typeDefs: shelfSdl,
      resolvers: {
        Query: {
          products: (_: unknown, { upcs }: { upcs: string[] }) => {
            listed.push(upcs);
            return upcs.map((upc) => ({ upc, label: `product ${upc}` }));
          },
        },
      },
    }),
    {},
  );
  const stockSubgraph: Subgraph = await startSubgraph(
    () => ({
      name: 'stock',
      typeDefs: stockSdl,
      resolvers: {
        Product: {
          __resolveReference: ({ upc }: { upc: string }) => {
            asked.push(upc);
            return { upc };
          },
          inStock: ({ upc }: { upc: string }) => {
            const units = stock.get(upc);
            if (units === null) throw new GraphQLError(`stock of ${upc} is unknown`, { extensions: { code: 'STOCK_UNKNOWN' } });
            return units ?? 0;
          },
          price: ({ upc }: { upc: string }) => Number(upc) * 1.5,
          wished: () => false,
        },
      },
    }),
    {},
  );
  const composed = composeSupergraph([
    { name: 'shelf', sdl: shelfSdl, url: shelf.url },
    { name: 'stock', sdl: stockSdl, url: stockSubgraph.url },
  ]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  const supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-entity-cache-')), 'supergraph.graphql');
  writeFileSync(supergraphPath, composed.supergraphSdl);
  return {
    supergraphPath,
    stock,
    asked,
    listed,
    stop: async () => {
      await stockSubgraph.stop();
      await shelf.stop();
    },
  };
}

/**
 * A fresh graph for each test of the describe block it is called in, and every gateway a test starts
 * on it stopped after that test: `graph` reads the current test's graph, `gateway(env)` starts one on it.
 */
export function entityCacheGraphPerTest(): { graph: EntityCacheGraph; gateway: (env: Record<string, string>) => Promise<InProcessGateway> } {
  let current: EntityCacheGraph | undefined;
  const running: InProcessGateway[] = [];
  const now = () => {
    if (!current) throw new Error('the entity cache graph is started for each test, and read only inside one');
    return current;
  };
  beforeEach(async () => {
    current = await startEntityCacheGraph();
  });
  afterEach(async () => {
    for (const gateway of running.splice(0)) await gateway.stop();
    await current?.stop();
    current = undefined;
  });
  const graph: EntityCacheGraph = {
    get supergraphPath() {
      return now().supergraphPath;
    },
    get stock() {
      return now().stock;
    },
    get asked() {
      return now().asked;
    },
    get listed() {
      return now().listed;
    },
    stop: () => now().stop(),
  };
  return {
    graph,
    gateway: async (env) => {
      const started = await startGateway({ SUPERGRAPH_PATH: graph.supergraphPath, ...env });
      running.push(started);
      return started;
    },
  };
}

const STOCK_QUERY = 'query ($upcs: [ID!]!) { products(upcs: $upcs) { upc inStock } }';

/** `upc`'s stock through a gateway, checking the answer carries no error. */
export async function stockThrough(gateway: InProcessGateway, upc: string): Promise<number | undefined> {
  const { status, body } = await postGraphQL<{ products: Array<{ inStock: number }> }>(gateway.url, STOCK_QUERY, { variables: { upcs: [upc] } });
  if (status !== 200 || body.errors) throw new Error(`${upc}: ${status} ${JSON.stringify(body)}`);
  return body.data?.products[0].inStock;
}

/**
 * Waits until `second` is served from the cache Redis what `first` stored there: `first` asks for a
 * fresh product, the entry is waited for in Redis (`probe`, keys under `prefix`), then `second`
 * asks for it. A fresh product per attempt, so a miss (a tier still connecting) is not kept locally
 * and mistaken for a Redis hit on the next one.
 */
export async function servedThroughRedis(first: InProcessGateway, second: InProcessGateway, probe: Redis, prefix: string, tag: string, timeoutMs = 15_000): Promise<void> {
  // Any tier's hit from Redis: the entity, its root answer or the whole answer (whichever `second` looks up first).
  const redisHits = () => metricSum(`${second.server.admin.url}/metrics`, 'trellis_entity_cache_hits_total', { tier: 'redis' }).catch(() => 0);
  let attempt = 0;
  await eventually(
    async () => {
      const upc = `${tag}-${attempt++}`;
      await stockThrough(first, upc);
      await eventually(async () => expect(await probe.exists(`${prefix}Product:{"upc":"${upc}"}`)).toBe(1), 5000, 20);
      const before = await redisHits();
      await stockThrough(second, upc);
      expect((await redisHits()) - before).toBeGreaterThanOrEqual(1);
    },
    timeoutMs,
    100,
  );
}
