/**
 * The cache Redis down is a miss, never an error, and costs little: a private Redis SIGKILLed or
 * SIGSTOPped under two gateways that share it. Both keep answering right; Redis is left alone
 * after a failure instead of being waited on per request; both use it again once it is back, by
 * themselves; a change dropped while it was away reaches it when it returns.
 */
import Redis from 'ioredis';
import { eventually, postGraphQL } from '../../support/graphql';
import { startGateway, type InProcessGateway } from '../../support/inProcess';
import { metricValue } from '../../support/metrics';
import { privateRedis, type PausableServer } from '../../support/privateServers';
import { startEntityCacheGraph, type EntityCacheGraph } from '../../support/entityCacheGraph';

jest.setTimeout(60_000);

const QUERY = 'query ($upcs: [ID!]!) { products(upcs: $upcs) { upc inStock } }';
const PREFIX = 'test:entity-down:';

describe('the entity cache with its Redis down', () => {
  let graph: EntityCacheGraph;
  let redis: PausableServer;
  const gateways: InProcessGateway[] = [];
  let probe: Redis;

  beforeAll(async () => {
    graph = await startEntityCacheGraph();
    // Durable, so a killed and restarted Redis comes back holding what it held: a drop it missed matters.
    redis = await privateRedis({ durable: true });
    await redis.start();
    probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 2000, retryStrategy: () => 200 });
  });
  afterAll(async () => {
    for (const gateway of gateways.splice(0)) await gateway.stop();
    probe.disconnect();
    await redis.kill();
    await graph.stop();
  });

  const gateway = async () => {
    const started = await startGateway({ SUPERGRAPH_PATH: graph.supergraphPath, ENTITY_CACHE: 'on', CACHE_REDIS_URL: redis.url, ENTITY_CACHE_PREFIX: PREFIX });
    gateways.push(started);
    return started;
  };
  const stockOf = async (at: InProcessGateway, upc: string) => {
    const { status, body } = await postGraphQL<{ products: Array<{ upc: string; inStock: number }> }>(at.url, QUERY, { variables: { upcs: [upc] } });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    return body.data?.products[0].inStock;
  };
  const metric = (at: InProcessGateway, name: string, labels: Record<string, string>) => metricValue(`${at.server.admin.url}/metrics`, `trellis_entity_cache_${name}`, labels);
  /** Whether the second gateway gets `upc` from Redis after the first stored it: Redis is in use. */
  const sharedThroughRedis = async (first: InProcessGateway, second: InProcessGateway, upc: string) => {
    const before = await metric(second, 'hits_total', { type: 'Product', tier: 'redis' }).catch(() => 0);
    await stockOf(first, upc);
    await stockOf(second, upc);
    return (await metric(second, 'hits_total', { type: 'Product', tier: 'redis' }).catch(() => 0)) - before;
  };

  it('killed: every answer right, no error; back: used again without a restart of the gateways', async () => {
    const [first, second] = [await gateway(), await gateway()];
    expect(await sharedThroughRedis(first, second, 'k1')).toBe(1);

    await redis.kill();
    graph.stock.set('k2', 5);
    expect(await stockOf(first, 'k1')).toBe(0);
    expect(await stockOf(first, 'k2')).toBe(5);
    expect(await stockOf(second, 'k2')).toBe(5);
    expect(graph.asked.filter((upc) => upc === 'k2')).toHaveLength(2);

    await redis.start();
    let upc = 0;
    await eventually(async () => expect(await sharedThroughRedis(first, second, `back-${upc++}`)).toBe(1), 15_000, 200);
  });

  it('hung (SIGSTOP): answers keep coming, Redis is not waited on per request, and resumed it is used again', async () => {
    const [first, second] = [await gateway(), await gateway()];
    expect(await sharedThroughRedis(first, second, 'h0')).toBe(1);
    const errorsBefore = await metric(first, 'redis_errors_total', { operation: 'read' });

    redis.pause();
    const requests = 20;
    let failedReads: number;
    try {
      const started = performance.now();
      for (let i = 1; i <= requests; i++) expect(await stockOf(first, `h${i}`)).toBe(0);
      const perRequestMs = (performance.now() - started) / requests;
      failedReads = (await metric(first, 'redis_errors_total', { operation: 'read' })) - errorsBefore;
      process.stdout.write(`entity cache, Redis hung: ${requests} requests, ${failedReads} waited on Redis, ${perRequestMs.toFixed(1)} ms per request\n`);
    } finally {
      redis.resume();
    }
    // A hung Redis costs one command timeout, then a rest: far fewer failed reads than requests.
    expect(failedReads).toBeGreaterThanOrEqual(1);
    expect(failedReads).toBeLessThan(requests / 2);

    let upc = 0;
    await eventually(async () => expect(await sharedThroughRedis(first, second, `resumed-${upc++}`)).toBe(1), 15_000, 200);
  });

  it('a change dropped while Redis was down reaches it once it is back: no gateway is served the old entry from it', async () => {
    const [first] = [await gateway()];
    graph.stock.set('c1', 1);
    expect(await stockOf(first, 'c1')).toBe(1);
    await probe.connect().catch(() => undefined);
    const key = `${PREFIX}Product:{"upc":"c1"}`;
    expect(await probe.exists(key)).toBe(1);

    await redis.kill();
    graph.stock.set('c1', 2);
    await first.server.entityCache.invalidate({ type: 'Product', key: { upc: 'c1' }, source: 'stock', at: Date.now() });
    expect(await stockOf(first, 'c1')).toBe(2);
    await redis.start();
    // Back with the old entry (its append-only file kept it), until the kept drop reaches it.

    await eventually(async () => expect(await probe.exists(key)).toBe(0), 15_000, 100);
    const later = await gateway();
    expect(await stockOf(later, 'c1')).toBe(2);
  });
});
