/**
 * The limiter the backends choose: under the launcher's dev hub, two processes' limiters share
 * one count in the hub's store; alone, each process counts in its own memory.
 */
import { DevHubServer } from '@trellis/kit/internal/devhub';
import { InMemoryDiscovery } from '@trellis/kit/internal/discovery';
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import { InMemoryEventBus } from '@trellis/kit/internal/events';
import { connectBackends, type Backends } from '@trellis/kit/internal/backends';
import { loadConfig } from '@trellis/kit/internal/config';
import { createLogger } from '@trellis/kit/internal/logging';

const logger = createLogger({ service: 'test', level: 'silent' });
const policy = { name: 'gateway', limit: 3, windowSec: 60 };

describe('Backends.rateLimiter', () => {
  const opened: Backends[] = [];
  afterEach(async () => {
    for (const backends of opened.splice(0)) await backends.close();
  });
  const connect = async (env: Record<string, string>, uses?: Array<'state' | 'discovery' | 'events'>) => {
    const backends = await connectBackends(loadConfig(env), logger, { uses });
    opened.push(backends);
    return backends;
  };

  it('shares one count between processes connected to the same dev hub', async () => {
    const hubState = new InMemoryStateStore();
    const hub = new DevHubServer({ targets: { discovery: new InMemoryDiscovery(), state: hubState, events: new InMemoryEventBus() } });
    const url = await hub.start();
    try {
      const [one, two] = [await connect({ TRELLIS_DEVHUB_URL: url }, ['state']), await connect({ TRELLIS_DEVHUB_URL: url }, ['state'])];
      expect(one.kinds.state).toBe('devhub');
      const [a, b] = [one.rateLimiter(policy), two.rateLimiter(policy)];
      const seen = [await a.consume('ip:1'), await b.consume('ip:1'), await a.consume('ip:1'), await b.consume('ip:1')];
      expect(seen.map((d) => [d.allowed, d.remaining])).toEqual([
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ]);
      expect(await hubState.get('ratelimit:gateway:ip:1')).toBe('4');
    } finally {
      await Promise.all(opened.splice(0).map((backends) => backends.close()));
      await hub.stop();
    }
  });

  it('counts in this process alone on the embedded backends', async () => {
    const [one, two] = [await connect({}), await connect({})];
    expect(one.kinds.state).toBe('memory');
    for (let i = 0; i < 3; i++) await one.rateLimiter(policy).consume('ip:1');
    // Every limiter of one process with the same policy shares its count...
    expect(await one.rateLimiter(policy).consume('ip:1')).toMatchObject({ allowed: false, remaining: 0 });
    // ...a policy with another limit counts apart...
    expect(await one.rateLimiter({ ...policy, limit: 5 }).consume('ip:1')).toMatchObject({ allowed: true, remaining: 4 });
    // ...and another process starts from zero.
    expect(await two.rateLimiter(policy).consume('ip:1')).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('refuses to build a limiter in a process that did not connect the state port', async () => {
    const backends = await connect({}, ['events']);
    expect(() => backends.rateLimiter(policy)).toThrow(/the state port was not connected in this process/);
  });
});
