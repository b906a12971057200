/**
 * The Redis promises of docs/operators.md (Backends), each measured against the setting it names: a stopped Redis fails
 * every command within REDIS_COMMAND_TIMEOUT_MS, a hung one fails each command at that timeout,
 * and at most 10,000 commands wait at once (the 10,001st fails at once).
 */
import { RedisStateStore } from '@trellis/kit/internal/state';
import { privateRedis, type PausableServer } from '../../support/privateServers';

const COMMAND_TIMEOUT_MS = 1500;

async function settle<T>(promise: Promise<T>): Promise<{ ms: number; error?: { code: string; retriable: boolean; message: string } }> {
  const started = performance.now();
  try {
    await promise;
    return { ms: performance.now() - started };
  } catch (error) {
    return { ms: performance.now() - started, error: error as { code: string; retriable: boolean; message: string } };
  }
}

describe('Redis adapter timeouts and limits', () => {
  let redis: PausableServer;
  let store: RedisStateStore;

  beforeEach(async () => {
    redis = await privateRedis();
    await redis.start();
    store = new RedisStateStore({ url: redis.url, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    await store.set('k', 'v'); // connected once
  });
  afterEach(async () => {
    redis.resume();
    await store.close();
    await redis.kill();
  });

  it('fails every command within REDIS_COMMAND_TIMEOUT_MS once Redis is stopped', async () => {
    await redis.kill();
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => settle(store.set(`k${i}`, 'x'))));
    // And the ones sent after the adapter has seen the loss.
    for (let i = 0; i < 20; i++) outcomes.push(await settle(store.get('k')));
    for (const outcome of outcomes) expect(outcome.error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retriable: true, message: expect.stringMatching(/^redis: /) });
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    process.stdout.write(`redis stopped: slowest failure ${slowest.toFixed(1)} ms (command timeout ${COMMAND_TIMEOUT_MS} ms)\n`);
    expect(slowest).toBeLessThan(COMMAND_TIMEOUT_MS);
  });

  it('fails a command on a hung connection at REDIS_COMMAND_TIMEOUT_MS, not before and not much after', async () => {
    redis.pause();
    const outcome = await settle(store.get('k'));
    expect(outcome.error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retriable: true, message: 'redis: Command timed out' });
    process.stdout.write(`redis hung: failed after ${outcome.ms.toFixed(1)} ms (command timeout ${COMMAND_TIMEOUT_MS} ms)\n`);
    expect(outcome.ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 20);
    expect(outcome.ms).toBeLessThan(COMMAND_TIMEOUT_MS + 500);
    redis.resume();
    expect(await store.get('k')).toBe('v');
  });

  it('lets at most 10,000 commands wait at once: the 10,001st fails at once, the 10,000 at the timeout', async () => {
    redis.pause();
    const waiting = Array.from({ length: 10_000 }, (_, i) => settle(store.get(`k${i}`)));
    const extra = await settle(store.get('one too many'));
    expect(extra.error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retriable: true, message: 'redis: too many pending commands' });
    expect(extra.ms).toBeLessThan(COMMAND_TIMEOUT_MS / 2);
    const outcomes = await Promise.all(waiting);
    expect(outcomes.filter((o) => o.error?.message === 'redis: Command timed out')).toHaveLength(10_000);
    redis.resume();
    expect(await store.get('k')).toBe('v');
  });
});
