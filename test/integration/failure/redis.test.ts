/** A Redis that dies mid-test: calls fail fast and clearly, then the adapter reconnects by itself. */
import { RedisStateStore } from '@trellis/kit/internal/state';
import { eventually } from '../../support/graphql';
import { privateRedis, type PrivateServer } from '../../support/privateServers';

describe('Redis state store when Redis dies and returns', () => {
  let redis: PrivateServer;
  let store: RedisStateStore;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    redis = await privateRedis();
    await redis.start();
    store = new RedisStateStore({ url: redis.url, commandTimeoutMs: 1000 });
  });

  afterAll(async () => {
    await store.close();
    await redis.kill();
    process.off('unhandledRejection', onUnhandled);
  });

  it('fails fast with BACKEND_UNAVAILABLE while down, reconnects, and leaves nothing hanging', async () => {
    await store.set('k', 'before');
    expect(await store.get('k')).toBe('before');

    await redis.kill();
    // Every call settles, quickly, with a clear retriable error: none hangs.
    const started = Date.now();
    const outcomes = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => store.set(`k${i}`, 'during')));
    const elapsed = Date.now() - started;
    expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true);
    const reason = (outcomes[0] as PromiseRejectedResult).reason as { code: string; retriable: boolean; message: string };
    expect(reason).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retriable: true });
    expect(reason.message).toMatch(/^redis: /);
    expect(elapsed).toBeLessThan(2500);

    await redis.start();
    await eventually(async () => expect(await store.get('k')).toBeNull(), 10_000, 100); // a fresh, empty server
    await store.set('k', 'after');
    expect(await store.get('k')).toBe('after');
    expect(unhandled).toEqual([]);
  });
});
