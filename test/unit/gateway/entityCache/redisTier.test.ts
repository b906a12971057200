/**
 * The entity cache's shared tier on a Redis of its own (a real server on a free port, never the
 * shared test Redis): one hash per entity, one field per variant, root answers filed under each
 * entity they hold so one drop takes them all; a Redis that fails or hangs costs a miss, never an
 * error, and a drop it missed is sent again once it answers.
 */
import { RedisTier, type RedisTierOptions } from '../../../../gateway/entityCache/redisTier';
import { privateCacheRedis } from '../../../support/entityCacheHarness';
import { recordingLogger } from '../../../support/recordingLogger';
import { eventually } from '../../../support/graphql';

jest.setTimeout(30_000);

describe('RedisTier', () => {
  const cacheRedis = privateCacheRedis();
  const tiers: RedisTier[] = [];
  let now: number;
  let errors: string[];

  const tier = async (options: Partial<RedisTierOptions> = {}) => {
    const made = new RedisTier({ url: cacheRedis.server.url, prefix: 'ec:', commandTimeoutMs: 1_000, logger: recordingLogger().logger, now: () => now, onError: (operation) => void errors.push(operation), ...options });
    tiers.push(made);
    // Ready once a read answers (nothing is queued while it connects).
    await eventually(async () => expect(await made.getMany([{ entity: 'probe', variant: 'v' }])).toEqual([null]));
    return made;
  };

  beforeEach(async () => {
    now = 1_000_000;
    errors = [];
    await cacheRedis.raw.flushall();
  });
  afterEach(async () => {
    for (const made of tiers.splice(0)) await made.close();
  });

  it('keeps one hash per entity under the prefix, one field per variant', async () => {
    const redis = await tier();
    await redis.set('Product:{"upc":"1"}', 'q1', 'one', 60_000);
    await redis.set('Product:{"upc":"1"}', 'q2', 'two', 60_000);
    expect(await redis.getMany([
      { entity: 'Product:{"upc":"1"}', variant: 'q2' },
      { entity: 'Product:{"upc":"1"}', variant: 'q3' },
      { entity: 'Product:{"upc":"2"}', variant: 'q1' },
      { entity: 'Product:{"upc":"1"}', variant: 'q1' },
    ])).toEqual(['two', null, null, 'one']);
    expect(await cacheRedis.raw.hgetall('ec:Product:{"upc":"1"}')).toEqual({ q1: 'one', q2: 'two' });
    expect(await cacheRedis.raw.keys('*')).toEqual(['ec:Product:{"upc":"1"}']);
  });

  it('keeps an entity’s hash as long as its longest-lived entry', async () => {
    const redis = await tier();
    await redis.set('Product:{"upc":"1"}', 'q1', 'one', 20_000);
    const first = await cacheRedis.raw.pttl('ec:Product:{"upc":"1"}');
    expect(first).toBeGreaterThan(15_000);
    expect(first).toBeLessThanOrEqual(20_000);
    await redis.set('Product:{"upc":"1"}', 'q2', 'two', 60_000);
    expect(await cacheRedis.raw.pttl('ec:Product:{"upc":"1"}')).toBeGreaterThan(50_000);
    await redis.set('Product:{"upc":"1"}', 'q3', 'three', 1_000);
    expect(await cacheRedis.raw.pttl('ec:Product:{"upc":"1"}')).toBeGreaterThan(50_000);
  });

  it('files a root answer under each entity it holds: dropping any of them drops it, and nothing else', async () => {
    const redis = await tier();
    await redis.setRoot('k1', 'answer one', 30_000, ['Product:{"upc":"1"}', 'Product:{"upc":"2"}']);
    await redis.setRoot('k2', 'answer two', 30_000, ['Product:{"upc":"2"}']);
    await redis.setRoot('k3', 'answer three', 30_000, []);
    await redis.set('Product:{"upc":"1"}', 'q1', 'one', 60_000);
    expect(await redis.getRoot('k1')).toBe('answer one');
    expect(await cacheRedis.raw.pttl('ec:root:k1')).toBeGreaterThan(25_000);
    expect(await cacheRedis.raw.pttl('ec:Product:{"upc":"2"}')).toBeGreaterThan(25_000);
    expect(await cacheRedis.raw.hgetall('ec:Product:{"upc":"2"}')).toEqual({ 'root:k1': '1', 'root:k2': '1' });
    await redis.drop('Product:{"upc":"1"}');
    expect(await redis.getRoot('k1')).toBeNull();
    expect(await redis.getRoot('k2')).toBe('answer two');
    expect(await redis.getRoot('k3')).toBe('answer three');
    expect(await redis.getMany([{ entity: 'Product:{"upc":"1"}', variant: 'q1' }])).toEqual([null]);
    expect((await cacheRedis.raw.keys('*')).sort()).toEqual(['ec:Product:{"upc":"2"}', 'ec:root:k2', 'ec:root:k3']);
    expect(errors).toEqual([]);
  });

  it('answers misses, never errors, while Redis hangs, and leaves it alone for restMs after a failure', async () => {
    const { logger, lines } = recordingLogger();
    const redis = await tier({ logger, restMs: 5_000 });
    await redis.set('Product:{"upc":"1"}', 'q1', 'one', 60_000);
    await redis.setRoot('k1', 'answer', 60_000, ['Product:{"upc":"1"}']);
    cacheRedis.server.pause();
    expect(await redis.getMany([{ entity: 'Product:{"upc":"1"}', variant: 'q1' }])).toBeUndefined();
    expect(errors).toEqual(['read']);
    expect(lines.filter((line) => line.level === 'warn').map((line) => line.msg)).toEqual(['entity cache Redis failed: lookups are misses until it answers again']);
    cacheRedis.server.resume();
    // Resting: not asked at all, so nothing more fails and nothing is written.
    expect(await redis.getMany([{ entity: 'Product:{"upc":"1"}', variant: 'q1' }])).toBeUndefined();
    expect(await redis.getRoot('k1')).toBeUndefined();
    await redis.set('Product:{"upc":"2"}', 'q1', 'two', 60_000);
    await redis.setRoot('k2', 'answer', 60_000, []);
    expect(errors).toEqual(['read']);
    now += 4_999;
    expect(await redis.getRoot('k1')).toBeUndefined();
    now += 1;
    expect(await redis.getRoot('k1')).toBe('answer');
    expect(await redis.getMany([{ entity: 'Product:{"upc":"1"}', variant: 'q1' }])).toEqual(['one']);
    expect(await cacheRedis.raw.exists('ec:Product:{"upc":"2"}', 'ec:root:k2')).toBe(0);
    expect(lines.filter((line) => line.level === 'info').map((line) => line.msg)).toEqual(['entity cache Redis answers again']);
    // One warning per outage, not one per failure.
    expect(lines.filter((line) => line.level === 'warn')).toHaveLength(1);
  });

  it('counts a hung write and a hung root read as failures of their kind', async () => {
    const redis = await tier({ restMs: 1 });
    cacheRedis.server.pause();
    await redis.set('Product:{"upc":"1"}', 'q1', 'one', 60_000);
    now += 1;
    await redis.setRoot('k1', 'answer', 60_000, ['Product:{"upc":"1"}']);
    now += 1;
    expect(await redis.getRoot('k1')).toBeUndefined();
    expect(errors).toEqual(['write', 'write', 'read']);
  });

  it('answers a read asked while another is out within the command timeout, though Redis hangs', async () => {
    // Auto-pipelining holds a command back until the batch ahead of it answers; ioredis's own timer
    // starts only when it is sent, so behind a hung batch a read would wait two timeouts.
    const redis = await tier({ commandTimeoutMs: 1_000 });
    cacheRedis.server.pause();
    const first = redis.getMany([{ entity: 'Product:{"upc":"1"}', variant: 'q1' }]);
    await new Promise((resolve) => setImmediate(resolve)); // the first batch is out
    const asked = Date.now();
    expect(await redis.getRoot('k1')).toBeUndefined();
    expect(Date.now() - asked).toBeLessThan(1_700);
    expect(await first).toBeUndefined();
    expect(errors).toEqual(['read', 'read']);
  });

  it('keeps a drop Redis missed, hides what Redis holds for that entity, and sends the drop once Redis answers again', async () => {
    const redis = await tier({ restMs: 60_000 });
    await redis.set('Product:{"upc":"1"}', 'q1', 'one', 60_000);
    await redis.set('Product:{"upc":"2"}', 'q1', 'two', 60_000);
    await redis.setRoot('k1', 'answer', 60_000, ['Product:{"upc":"3"}']);
    cacheRedis.server.pause();
    await redis.drop('Product:{"upc":"1"}');
    expect(errors).toEqual(['drop']);
    cacheRedis.server.resume();
    // Still resting: kept without asking.
    await redis.drop('Product:{"upc":"3"}');
    // Written before the drops went through, these would be dropped with them: not written.
    await redis.set('Product:{"upc":"1"}', 'q2', 'newer', 60_000);
    await redis.setRoot('k2', 'answer', 60_000, ['Product:{"upc":"3"}']);
    now += 60_000;
    // The first answer from Redis sends the kept drops; what it holds for a dropped entity is not served meanwhile.
    expect(await redis.getMany([
      { entity: 'Product:{"upc":"1"}', variant: 'q1' },
      { entity: 'Product:{"upc":"2"}', variant: 'q1' },
    ])).toEqual([null, 'two']);
    await eventually(async () => expect((await cacheRedis.raw.keys('*')).sort()).toEqual(['ec:Product:{"upc":"2"}']));
    expect(await redis.getRoot('k1')).toBeNull();
    await redis.set('Product:{"upc":"1"}', 'q2', 'newer', 60_000);
    expect(await redis.getMany([{ entity: 'Product:{"upc":"1"}', variant: 'q2' }])).toEqual(['newer']);
    expect(errors).toEqual(['drop']);
  });

  it('sends a missed drop again by itself, without waiting for a request', async () => {
    const redis = await tier({ restMs: 200, now: Date.now });
    await redis.set('Product:{"upc":"1"}', 'q1', 'one', 60_000);
    cacheRedis.server.pause();
    await redis.drop('Product:{"upc":"1"}');
    cacheRedis.server.resume();
    await eventually(async () => expect(await cacheRedis.raw.exists('ec:Product:{"upc":"1"}')).toBe(0));
  });

  it('keeps at most maxPendingDrops missed drops: past it, the oldest is forgotten (its entry ends at its TTL)', async () => {
    const redis = await tier({ restMs: 60_000, maxPendingDrops: 2 });
    for (const upc of ['1', '2', '3']) await redis.set(`Product:{"upc":"${upc}"}`, 'q1', upc, 60_000);
    // A read that hangs sets it resting: the drops are kept without being sent (a timed-out command may yet land).
    cacheRedis.server.pause();
    expect(await redis.getMany([{ entity: 'Product:{"upc":"1"}', variant: 'q1' }])).toBeUndefined();
    cacheRedis.server.resume();
    for (const upc of ['1', '2', '3']) await redis.drop(`Product:{"upc":"${upc}"}`);
    now += 60_000;
    const entities = ['1', '2', '3'].map((upc) => ({ entity: `Product:{"upc":"${upc}"}`, variant: 'q1' }));
    expect(await redis.getMany(entities)).toEqual(['1', null, null]);
    await eventually(async () => expect(await cacheRedis.raw.keys('*')).toEqual(['ec:Product:{"upc":"1"}']));
  });

  it('is a miss at once while Redis is down, and used again once it is back', async () => {
    const redis = await tier();
    await cacheRedis.server.kill();
    await eventually(async () => expect(await redis.getMany([{ entity: 'Product:{"upc":"1"}', variant: 'q1' }])).toBeUndefined());
    const started = Date.now();
    expect(await redis.getMany([{ entity: 'Product:{"upc":"1"}', variant: 'q1' }])).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(50);
    await cacheRedis.server.start();
    now += 1_000;
    await eventually(async () => expect(await redis.getMany([{ entity: 'Product:{"upc":"1"}', variant: 'q1' }])).toEqual([null]), 10_000);
    await redis.set('Product:{"upc":"1"}', 'q1', 'back', 60_000);
    expect(await redis.getMany([{ entity: 'Product:{"upc":"1"}', variant: 'q1' }])).toEqual(['back']);
    await eventually(async () => expect(cacheRedis.raw.status).toBe('ready'), 10_000);
  });
});
