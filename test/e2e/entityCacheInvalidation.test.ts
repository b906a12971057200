/**
 * Issue 33's "done when": two gateways with the entity cache on (`ENTITY_CACHE=on`, whole answers
 * too), sharing one cache Redis, on real Kafka and Redis (`TRELLIS_REPLICAS=2 npm start`). A
 * product's `inStock`, read through `_entities` from the catalog, is cached by both (the query's
 * whole answer, filed under the product, and the product itself); an order placed through one gateway
 * reserves its stock; once each gateway's change feed has delivered the catalog's announcement,
 * neither serves the old value. The staleness window (announcement to drop, per gateway) is printed.
 */
import { startPlatform, REPLICA_PORT_STEP, type RunningPlatform } from '../support/platform';
import { eventually, postGraphQL } from '../support/graphql';
import { platformToken } from '../support/identity';
import { metricSum, metricValue } from '../support/metrics';
import { uniquePrefix } from '../support/backends';
import { privateRedis, type PausableServer } from '../support/privateServers';

/** u2's orders hold p4: its `inStock` comes from the catalog's `_entities`, which the cache keeps. */
const STOCK_THROUGH_ENTITIES = '{ user(id: "u2") { orders { items { product { id inStock } } } } }';
const PLACE_ORDER = `mutation($items: [OrderItemInput!]!) { placeOrder(input: { items: $items, paymentMethod: "card-ok" }) { sagaId } }`;
const SAGA = 'query($id: ID!) { saga(id: $id) { state } }';

interface StockAnswer {
  user: { orders: Array<{ items: Array<{ product: { id: string; inStock: number } | null }> }> };
}

describe('entity cache invalidation through two gateways', () => {
  let cacheServer: PausableServer;
  let platform: RunningPlatform;
  let gateways: string[];
  let metrics: string[];
  let buyer: { authorization: string };

  beforeAll(async () => {
    cacheServer = await privateRedis({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] });
    await cacheServer.start();
    platform = await startPlatform({
      backends: 'real',
      replicas: 2,
      env: { ENTITY_CACHE: 'on', CACHE_REDIS_URL: cacheServer.url, ENTITY_CACHE_PREFIX: `${uniquePrefix('entities')}:` },
      timeoutMs: 240_000,
    });
    gateways = [0, 1].map((k) => `http://127.0.0.1:${platform.base + REPLICA_PORT_STEP * k}/graphql`);
    metrics = [0, 1].map((k) => `http://127.0.0.1:${platform.base + REPLICA_PORT_STEP * k + 700}/metrics`);
    buyer = { authorization: `Bearer ${await platformToken(platform.base, 'u2', ['payments:read'])}` };
  }, 300_000);

  afterAll(async () => {
    await platform?.stop();
    await cacheServer?.kill();
  });

  /** p4's `inStock` as one gateway answers it (every order of u2 holding p4 must say the same). */
  const stockOf = async (gateway: string): Promise<number> => {
    const answer = await postGraphQL<StockAnswer>(gateway, STOCK_THROUGH_ENTITIES, { headers: buyer });
    expect(answer.body.errors).toBeUndefined();
    const seen = new Set(answer.body.data!.user.orders.flatMap((order) => order.items.map((item) => item.product)).filter((product) => product?.id === 'p4').map((product) => product!.inStock));
    expect(seen.size).toBe(1);
    return [...seen][0];
  };

  it('neither gateway serves the old inStock once the reservation’s announcement is delivered', async () => {
    // Each feed hears its own heartbeat: entries live their declared TTL, not the degraded one.
    for (const url of metrics) await eventually(async () => expect(await metricValue(url, 'trellis_entity_cache_feed_live')).toBe(1), 60_000, 200);
    const before = await stockOf(gateways[0]);
    // Cached by both: the second read through each gateway is served whole from the cache, so a stale value could be.
    for (const [k, gateway] of gateways.entries()) {
      await eventually(
        async () => {
          expect(await stockOf(gateway)).toBe(before);
          expect(await metricSum(metrics[k], 'trellis_entity_cache_hits_total', { type: 'Response' })).toBeGreaterThan(0);
        },
        10_000,
        100,
      );
    }
    const delivered = await Promise.all(metrics.map((url) => metricSum(url, 'trellis_entity_cache_changes_received_total', { type: 'Product' }).catch(() => 0)));

    const placed = await postGraphQL<{ placeOrder: { sagaId: string } }>(gateways[0], PLACE_ORDER, { variables: { items: [{ productId: 'p4', quantity: 1 }] }, headers: buyer });
    expect(placed.body.errors).toBeUndefined();
    const sagaId = placed.body.data!.placeOrder.sagaId;
    await eventually(async () => expect((await postGraphQL<{ saga: { state: string } }>(gateways[1], SAGA, { variables: { id: sagaId }, headers: buyer })).body.data?.saga.state).toBe('COMPLETED'), 60_000, 100);

    // Wait for what is asserted: each gateway's feed has dropped the reservation's change of p4.
    for (const [k, url] of metrics.entries()) {
      await eventually(async () => expect(await metricSum(url, 'trellis_entity_cache_changes_received_total', { type: 'Product' })).toBeGreaterThan(delivered[k]), 30_000, 50);
    }
    for (const gateway of gateways) expect(await stockOf(gateway)).toBe(before - 1);

    for (const [k, url] of metrics.entries()) {
      const count = await metricValue(url, 'trellis_entity_cache_change_delivery_seconds_count');
      const sum = await metricValue(url, 'trellis_entity_cache_change_delivery_seconds_sum');
      const underTenthSecond = await metricValue(url, 'trellis_entity_cache_change_delivery_seconds_bucket', { le: '0.1' });
      console.log(`[entity cache, gateway ${k + 1}] ${count} announced changes dropped, mean staleness window ${((sum / count) * 1000).toFixed(1)} ms, ${underTenthSecond} of them within 100 ms`);
    }
  });
});
