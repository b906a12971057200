/** The entity cache in the gateway: it reads every supergraph the gateway loads, keeps the last good one, and closes with the gateway. */
import { Registry } from 'prom-client';
import { EntityCache, entityCacheExtension, type FetchedAnswer } from '../../../../gateway/entityCache';
import type { GatewayHost } from '../../../../gateway/extension';
import { composeSupergraph } from '../../../../gateway/supergraph/compose';
import { recordingLogger } from '../../../support/recordingLogger';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';
const supergraphOf = (key: string) => {
  const composed = composeSupergraph([{ name: 'stock', url: 'http://stock', sdl: `${LINK} type Query { p: Product } type Product @key(fields: "${key}") { upc: ID! sku: ID! inStock: Int }` }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  return composed.supergraphSdl;
};
const ENTITIES = 'query($representations:[_Any!]!){_entities(representations:$representations){...on Product{inStock}}}';

describe('entityCacheExtension', () => {
  it('reads each supergraph loaded, keeps the previous one when a new one cannot be read, and closes the cache on stop', async () => {
    const { logger, lines } = recordingLogger();
    const cache = new EntityCache({ settings: { mode: 'on', localMax: 10, maxTtlMs: 60_000, redisTimeoutMs: 50, prefix: 'unit:', responses: true }, registry: new Registry(), logger });
    const loaded: Array<(update: { coreSupergraphSdl: string; apiSchema: unknown }) => void> = [];
    const host = { gateway: { onSchemaLoadOrUpdate: (listener: (typeof loaded)[number]) => void loaded.push(listener) } } as unknown as GatewayHost;
    const extension = entityCacheExtension(cache, logger);
    expect(extension.name).toBe('entityCache');
    await extension.attach!({} as never, host);
    expect(loaded).toHaveLength(1);
    const send = async (): Promise<FetchedAnswer> => ({ response: { data: { _entities: [{ inStock: 1 }] } }, hint: { maxAge: 60, scope: 'PUBLIC' } });
    const fetch = () => cache.fetch({ subgraph: 'stock', query: ENTITIES, variables: { representations: [{ __typename: 'Product', upc: '1', sku: 's' }] } }, null, send);
    // No supergraph yet: no key known, nothing the cache can hold.
    expect(await fetch()).toBeUndefined();
    loaded[0]({ coreSupergraphSdl: supergraphOf('sku'), apiSchema: undefined });
    await fetch();
    expect(await fetch()).toMatchObject({ hits: 1 });
    loaded[0]({ coreSupergraphSdl: 'type {', apiSchema: undefined });
    const errors = lines.filter((line) => line.level === 'error');
    expect(errors.map((line) => line.msg)).toEqual(['the entity cache cannot read the new supergraph; it keeps the previous one']);
    expect(errors[0].err).toMatchObject({ message: expect.any(String) });
    expect(await fetch()).toMatchObject({ hits: 1 });
    // A new supergraph read: its key is the one entries are filed under from now on (keyed by upc, the sku entry is not it).
    await cache.invalidate({ type: 'Product', key: { sku: 's' }, source: 'stock', at: 0 });
    loaded[0]({ coreSupergraphSdl: supergraphOf('upc'), apiSchema: undefined });
    await fetch();
    await cache.invalidate({ type: 'Product', key: { sku: 's' }, source: 'stock', at: 0 });
    expect(await fetch()).toMatchObject({ hits: 1 });
    const close = jest.spyOn(cache, 'stop');
    await extension.stop!();
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('serves whole answers through an Apollo plugin when they are on, and adds none when they are off', () => {
    const { logger } = recordingLogger();
    const settings = { mode: 'on' as const, localMax: 10, maxTtlMs: 60_000, redisTimeoutMs: 50, prefix: 'unit:' };
    const withResponses = new EntityCache({ settings: { ...settings, responses: true }, registry: new Registry(), logger });
    const plugins = entityCacheExtension(withResponses, logger).apolloPlugins;
    expect(plugins).toHaveLength(1);
    expect(plugins![0]).toHaveProperty('requestDidStart');
    const withoutResponses = new EntityCache({ settings: { ...settings, responses: false }, registry: new Registry(), logger });
    expect(entityCacheExtension(withoutResponses, logger)).not.toHaveProperty('apolloPlugins');
  });
});
