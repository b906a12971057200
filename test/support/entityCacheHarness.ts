/**
 * The entity cache on its in-process tier with a driven clock, for its unit tests: a `stock`
 * subgraph answering `_entities` (`value(upc)` per representation, with the hint and errors a test
 * sets), what it was asked per fetch, and the cache's metrics read back.
 */
import { Registry } from 'prom-client';
import { createLogger } from '@trellis/kit';
import { EntityCache, type CacheCaller, type FetchedAnswer } from '../../gateway/entityCache';
import { composeSupergraph } from '../../gateway/supergraph/compose';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@requiresScopes", "@external", "@requires"])';
export const SUPERGRAPH = (() => {
  const composed = composeSupergraph([
    { name: 'shelf', url: 'http://shelf', sdl: `${LINK} type Query { products: [Product!]! } type Product @key(fields: "upc") { upc: ID! weight: Int }` },
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

export const ENTITIES = 'query($representations:[_Any!]!){_entities(representations:$representations){...on Product{inStock}}}';
export const product = (upc: string) => ({ __typename: 'Product', upc });
export const alice: CacheCaller = { id: 'alice', scopes: [] };
export const bob: CacheCaller = { id: 'bob', scopes: [] };

export function entityCacheHarness(options: { mode?: 'off' | 'on' | 'shadow'; maxTtlMs?: number } = {}) {
  let now = 1_000_000;
  const registry = new Registry();
  const cache = new EntityCache({
    settings: { mode: options.mode ?? 'on', localMax: 100, maxTtlMs: options.maxTtlMs ?? 3_600_000, redisTimeoutMs: 50, prefix: 'unit:' },
    registry,
    logger: createLogger({ service: 'test', level: 'silent' }),
    now: () => now,
  });
  cache.useSupergraph(SUPERGRAPH);
  /** What the subgraph was asked, per fetch; it answers `value(upc)` for each representation. */
  const asked: unknown[][] = [];
  /** Every fetch's variables as the subgraph got them. */
  const sent: Array<Record<string, unknown>> = [];
  let hint: FetchedAnswer['hint'] = { maxAge: 60, scope: 'PUBLIC' };
  let value = (upc: string): unknown => ({ inStock: Number(upc) });
  let errors: FetchedAnswer['response']['errors'];
  let noData = false;
  const send = async (variables: Record<string, unknown>): Promise<FetchedAnswer> => {
    sent.push(variables);
    const representations = variables.representations as Array<{ upc?: string; id?: string; number?: number }>;
    asked.push(representations.map((representation) => representation.upc ?? representation.id ?? representation.number));
    const data = noData ? null : { _entities: representations.map((representation) => value(String(representation.upc ?? representation.id))) };
    return { response: { data, ...(errors ? { errors } : {}) }, hint };
  };
  const fetch = (representations: unknown[], caller: CacheCaller = null, query = ENTITIES, subgraph = 'stock', vary?: string, more: Record<string, unknown> = {}) =>
    cache.fetch({ subgraph, query, variables: { ...more, representations }, vary }, caller, send);
  const sample = async (name: string, labels: Record<string, string>) => (await registry.getSingleMetric(`trellis_entity_cache_${name}`)?.get())?.values.find((entry) => Object.entries(labels).every(([key, label]) => entry.labels[key] === label))?.value;
  return {
    cache,
    asked,
    sent,
    fetch,
    sample,
    advance: (ms: number) => (now += ms),
    /** The subgraph's next answers: a hint, a value per upc, errors (until the next call), or `data: null` (`noData`, until the next call). */
    answer: (next: { hint?: FetchedAnswer['hint']; value?: (upc: string) => unknown; errors?: FetchedAnswer['response']['errors']; noData?: boolean }) => {
      noData = next.noData ?? false;
      if (next.hint) hint = next.hint;
      if (next.value) value = next.value;
      errors = next.errors;
    },
  };
}

