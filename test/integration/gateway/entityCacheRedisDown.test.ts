/**
 * The cache Redis down is a miss, never an error, and costs little: a private Redis SIGKILLed or
 * SIGSTOPped under two gateways that share it. Both keep answering right; Redis is left alone
 * after a failure instead of being waited on per request; both use it again once it is back, by
 * themselves; a change dropped while it was away reaches it when it returns.
 */
import Redis from 'ioredis';
import { eventually } from '../../support/graphql';
import { startGateway, type InProcessGateway } from '../../support/inProcess';
import { metricSum } from '../../support/metrics';
import { privateRedis, type PausableServer } from '../../support/privateServers';
import { servedThroughRedis, startEntityCacheGraph, stockThrough, type EntityCacheGraph } from '../../support/entityCacheGraph';

jest.setTimeout(60_000);

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
    probe = new Redis(redis.url, { maxRetriesPerRequest: 1, commandTimeout: 2000, retryStrategy: () => 200 });
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
  const stockOf = stockThrough;
  const shared = (first: InProcessGateway, second: InProcessGateway, tag: string) => servedThroughRedis(first, second, probe, PREFIX, tag);

  it('killed: every answer right, no error; back: used again without a restart of the gateways', async () => {
    const [first, second] = [await gateway(), await gateway()];
    await shared(first, second, 'k1');

    await redis.kill();
    graph.stock.set('k2', 5);
    expect(await stockOf(first, 'k1-0')).toBe(0);
    expect(await stockOf(first, 'k2')).toBe(5);
    expect(await stockOf(second, 'k2')).toBe(5);
    expect(graph.asked.filter((upc) => upc === 'k2')).toHaveLength(2);

    await redis.start();
    await shared(first, second, 'back');
  });

  it('hung (SIGSTOP): answers keep coming, Redis is not waited on per request, and resumed it is used again', async () => {
    const [first, second] = [await gateway(), await gateway()];
    await shared(first, second, 'h0');
    // Any command that waited on the hung Redis (a lookup, or a write still in flight when it hung).
    const waited = () => metricSum(`${first.server.admin.url}/metrics`, 'trellis_entity_cache_redis_errors_total');
    const errorsBefore = await waited();

    redis.pause();
    const requests = 20;
    let failedReads: number;
    let elapsedMs: number;
    try {
      const started = performance.now();
      for (let i = 1; i <= requests; i++) expect(await stockOf(first, `h${i}`)).toBe(0);
      elapsedMs = performance.now() - started;
      const perRequestMs = elapsedMs / requests;
      failedReads = (await waited()) - errorsBefore;
      process.stdout.write(`entity cache, Redis hung: ${requests} requests, ${failedReads} waited on Redis, ${perRequestMs.toFixed(1)} ms per request\n`);
    } finally {
      redis.resume();
    }
    // A hung Redis costs one command timeout, then a second's rest: at most one failed command a second, not one per request.
    expect(failedReads).toBeGreaterThanOrEqual(1);
    expect(failedReads).toBeLessThanOrEqual(Math.min(requests - 1, Math.ceil(elapsedMs / 1000) + 1));

    await shared(first, second, 'resumed');
  });

  it('a change dropped while Redis was down reaches it once it is back: no gateway is served the old entry from it', async () => {
    const [first] = [await gateway()];
    graph.stock.set('c1', 1);
    expect(await stockOf(first, 'c1')).toBe(1);
    const key = `${PREFIX}Product:{"upc":"c1"}`;
    await eventually(async () => expect(await probe.exists(key)).toBe(1), 10_000, 50);

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
