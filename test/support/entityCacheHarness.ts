/**
 * The entity cache on its in-process tier with a driven clock, for its unit tests: a `stock`
 * subgraph answering `_entities` (`value(upc)` per representation, with the hint and errors a test
 * sets), a `shelf` subgraph answering root fetches, what they were asked per fetch, and the cache's
 * metrics read back; and a cache Redis of a test file's own for the shared tier's tests.
 */
import { buildSchema, type GraphQLSchema } from 'graphql';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { createLogger } from '@trellis/kit';
import { EntityCache, type CacheCaller, type FetchedAnswer } from '../../gateway/entityCache';
import { composeSupergraph } from '../../gateway/supergraph/compose';
import { privateRedis, type PausableServer } from './privateServers';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@requiresScopes", "@external", "@requires"])';
export const SUPERGRAPH = (() => {
  const composed = composeSupergraph([
    { name: 'shelf', url: 'http://shelf', sdl: `${LINK} type Query { products(first: Int, after: Int): [Product!]! } type Product @key(fields: "upc") { upc: ID! weight: Int }` },
    {
      name: 'stock',
      url: 'http://stock',
      sdl: `${LINK}
        type Product @key(fields: "upc") { upc: ID! inStock: Int cost: Int @requiresScopes(scopes: [["stock:cost"]]) weight: Int @external shipping: Int @requires(fields: "weight") }
        type Order @key(fields: "id") @key(fields: "number") { id: ID! number: Int! total: Int }`,
    },
  ]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  return composed.supergraphSdl;
})();

/** The API schema the gateway serves for SUPERGRAPH (what a root answer is walked with). */
export const API_SCHEMA = buildSchema(`
  type Query { products(first: Int, after: Int): [Product!]! }
  type Product { upc: ID! weight: Int inStock: Int cost: Int shipping: Int }
  type Order { id: ID! number: Int! total: Int }
`);

export const ENTITIES = 'query($representations:[_Any!]!){_entities(representations:$representations){...on Product{inStock}}}';
/** A root fetch `shelf` is sent. */
export const PRODUCTS = 'query($first:Int,$after:Int){products(first:$first,after:$after){upc}}';
export const product = (upc: string) => ({ __typename: 'Product', upc });
export const alice: CacheCaller = { id: 'alice', scopes: [] };
export const bob: CacheCaller = { id: 'bob', scopes: [] };

/** `schema`: the API schema the cache gets with the supergraph (API_SCHEMA); without it, root fetches are left alone. */
export function entityCacheHarness(options: { mode?: 'off' | 'on' | 'shadow'; maxTtlMs?: number; schema?: GraphQLSchema } = {}) {
  let now = 1_000_000;
  const registry = new Registry();
  const cache = new EntityCache({
    settings: { mode: options.mode ?? 'on', localMax: 100, maxTtlMs: options.maxTtlMs ?? 3_600_000, redisTimeoutMs: 50, prefix: 'unit:', responses: true },
    registry,
    logger: createLogger({ service: 'test', level: 'silent' }),
    now: () => now,
  });
  cache.useSupergraph(SUPERGRAPH, options.schema);
  /** What the subgraph was asked, per entity fetch; it answers `value(upc)` for each representation. */
  const asked: unknown[][] = [];
  /** Every fetch's variables as the subgraph got them. */
  const sent: Array<Record<string, unknown>> = [];
  let hint: FetchedAnswer['hint'] = { maxAge: 60, scope: 'PUBLIC' };
  let value = (upc: string): unknown => ({ inStock: Number(upc) });
  let errors: FetchedAnswer['response']['errors'];
  let noData = false;
  let rootData: () => Record<string, unknown> | null = () => ({ products: [{ upc: '1' }, { upc: '2' }] });
  const send = async (variables: Record<string, unknown>): Promise<FetchedAnswer> => {
    sent.push(variables);
    if (!Array.isArray(variables.representations)) return { response: { data: rootData(), ...(errors ? { errors } : {}) }, hint };
    const representations = variables.representations as Array<{ upc?: string; id?: string; number?: number }>;
    asked.push(representations.map((representation) => representation.upc ?? representation.id ?? representation.number));
    const data = noData ? null : { _entities: representations.map((representation) => value(String(representation.upc ?? representation.id))) };
    return { response: { data, ...(errors ? { errors } : {}) }, hint };
  };
  const fetch = (representations: unknown[], caller: CacheCaller = null, query = ENTITIES, subgraph = 'stock', vary?: string, more: Record<string, unknown> = {}) =>
    cache.fetch({ subgraph, query, variables: { ...more, representations }, vary }, caller, send);
  /** A root fetch: `shelf` answers the `data` last set by `answer` (two products by default). */
  const fetchRoot = (variables: Record<string, unknown> = {}, caller: CacheCaller = null, query = PRODUCTS, vary?: string, subgraph = 'shelf') =>
    cache.fetch({ subgraph, query, variables, vary }, caller, send);
  const sample = async (name: string, labels: Record<string, string>) => (await registry.getSingleMetric(`trellis_entity_cache_${name}`)?.get())?.values.find((entry) => Object.entries(labels).every(([key, label]) => entry.labels[key] === label))?.value;
  return {
    cache,
    asked,
    sent,
    fetch,
    fetchRoot,
    sample,
    advance: (ms: number) => (now += ms),
    /**
     * The subgraphs' next answers: a hint, a value per upc, a root fetch's `data`, errors (until the
     * next call), or an entity fetch's `data: null` (`noData`, until the next call).
     */
    answer: (next: { hint?: FetchedAnswer['hint']; value?: (upc: string) => unknown; data?: () => Record<string, unknown> | null; errors?: FetchedAnswer['response']['errors']; noData?: boolean }) => {
      noData = next.noData ?? false;
      if (next.hint) hint = next.hint;
      if (next.value) value = next.value;
      if (next.data) rootData = next.data;
      errors = next.errors;
    },
  };
}

/**
 * A cache Redis of the test file's own (a real `redis-server` on a free port, never the shared test
 * Redis), started before its tests and killed after them, resumed before each test (so a test may
 * pause it), with a client of the test's own to see what was written. Call it in a `describe`.
 */
export function privateCacheRedis() {
  let server: PausableServer;
  let raw: Redis;
  beforeAll(async () => {
    server = await privateRedis();
    await server.start();
    raw = new Redis(server.url);
  });
  afterAll(async () => {
    raw.disconnect();
    await server.kill();
  });
  beforeEach(() => server.resume());
  return {
    get server() {
      return server;
    },
    get raw() {
      return raw;
    },
  };
}
