import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  httpHealthCheck,
  InMemoryDiscovery,
  sameInstances,
  SCHEMA_REVISION_META,
  sortInstances,
  SUBGRAPH_TAG,
  type ServiceInstance,
} from '@trellis/kit/internal/discovery';
import { recordingLogger } from '../../../support/recordingLogger';

const registration = (id: string, name = 'catalog') => ({
  id,
  name,
  url: `http://${id}/graphql`,
  healthUrl: `http://${id}/health/ready`,
  meta: { subgraph: name },
});

describe('InMemoryDiscovery', () => {
  it('reports the current set at once and after every change', async () => {
    const discovery = new InMemoryDiscovery();
    const seen: ServiceInstance[][] = [];
    await discovery.register(registration('a'));
    const watch = await discovery.watch((instances) => seen.push(instances));
    await discovery.register(registration('b'));
    await discovery.deregister('a');
    expect(seen.map((set) => set.map((i) => i.id))).toEqual([['a'], ['a', 'b'], ['b']]);
    await watch.stop();
    await discovery.close();
  });

  it('marks an instance unhealthy while its check fails, and healthy again when it passes', async () => {
    const healthy = new Map([['http://a/health/ready', true]]);
    const discovery = new InMemoryDiscovery({
      healthIntervalMs: 60_000,
      checkHealth: async (url) => healthy.get(url) ?? false,
    });
    const seen: string[][] = [];
    await discovery.watch((instances) => seen.push(instances.map((i) => `${i.id}:${i.healthy ? 'up' : 'down'}`)));
    await discovery.register(registration('a'));
    healthy.set('http://a/health/ready', false);
    await discovery.checkAll();
    healthy.set('http://a/health/ready', true);
    await discovery.checkAll();
    expect(seen).toEqual([[], ['a:up'], ['a:down'], ['a:up']]);
    await discovery.close();
  });

  it('deregisters an instance that stays unhealthy too long, as a crashed process', async () => {
    const discovery = new InMemoryDiscovery({
      healthIntervalMs: 60_000,
      deregisterCriticalAfterMs: 0,
      checkHealth: async () => false,
    });
    await discovery.register(registration('a'));
    await discovery.checkAll();
    const seen: string[][] = [];
    await discovery.watch((instances) => seen.push(instances.map((i) => i.id)));
    expect(seen).toEqual([[]]);
    await discovery.close();
  });
});

describe('InMemoryDiscovery health checks', () => {
  const healthUrl = 'http://a/health/ready';
  afterEach(() => jest.useRealTimers());

  function checked(options: ConstructorParameters<typeof InMemoryDiscovery>[0] = {}) {
    const results = new Map<string, boolean>([[healthUrl, true]]);
    const calls: string[] = [];
    const discovery = new InMemoryDiscovery({
      healthIntervalMs: 60_000,
      ...options,
      checkHealth: async (url) => {
        calls.push(url);
        return results.get(url) ?? false;
      },
    });
    const seen: string[][] = [];
    const watching = discovery.watch((instances) =>
      seen.push(instances.map((i) => `${i.id}:${i.healthy ? 'up' : 'down'}`)),
    );
    return { discovery, results, calls, seen, watching };
  }

  it('counts every registration healthy, checking nothing, when checking is off (the default)', async () => {
    const checks: string[] = [];
    const discovery = new InMemoryDiscovery({ checkHealth: async (url) => (checks.push(url), false) });
    const seen: ServiceInstance[][] = [];
    await discovery.watch((instances) => seen.push(instances));
    await discovery.register(registration('a'));
    expect(seen.at(-1)?.map((i) => i.healthy)).toEqual([true]);
    expect(checks).toEqual([]);
    await discovery.close();
  });

  it('registers an instance whose first check fails as unhealthy, and checks its health URL', async () => {
    const { discovery, results, calls, seen } = checked();
    results.set(healthUrl, false);
    await discovery.register(registration('a'));
    expect(calls).toEqual([healthUrl]);
    expect(seen).toEqual([[], ['a:down']]);
    await discovery.close();
  });

  it('marks an instance down only after the configured number of consecutive failures; a pass starts the count again', async () => {
    const { discovery, results, seen } = checked({ failuresBeforeUnhealthy: 3 });
    await discovery.register(registration('a'));
    results.set(healthUrl, false);
    await discovery.checkAll();
    await discovery.checkAll();
    expect(seen.at(-1)).toEqual(['a:up']);
    results.set(healthUrl, true);
    await discovery.checkAll();
    results.set(healthUrl, false);
    await discovery.checkAll();
    await discovery.checkAll();
    expect(seen.at(-1)).toEqual(['a:up']);
    await discovery.checkAll();
    expect(seen).toEqual([[], ['a:up'], ['a:down']]);
    await discovery.close();
  });

  it('reports nothing when a round of checks changes nothing', async () => {
    const { discovery, seen } = checked();
    await discovery.register(registration('a'));
    await discovery.checkAll();
    await discovery.checkAll();
    expect(seen).toEqual([[], ['a:up']]);
    await discovery.close();
  });

  it('deregisters an instance 30 s after it went critical by default, counted from its first failure', async () => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['queueMicrotask', 'nextTick'] });
    const { discovery, results, seen } = checked();
    await discovery.register(registration('a'));
    results.set(healthUrl, false);
    await discovery.checkAll();
    jest.setSystemTime(1_000_000 + 20_000);
    await discovery.checkAll();
    jest.setSystemTime(1_000_000 + 29_999);
    await discovery.checkAll();
    expect(seen.at(-1)).toEqual(['a:down']);
    jest.setSystemTime(1_000_000 + 30_000);
    await discovery.checkAll();
    expect(seen).toEqual([[], ['a:up'], ['a:down'], []]);
    await discovery.close();
  });

  it('starts the critical time again after the instance passed in between', async () => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['queueMicrotask', 'nextTick'] });
    const { discovery, results, seen } = checked({ deregisterCriticalAfterMs: 10_000 });
    await discovery.register(registration('a'));
    results.set(healthUrl, false);
    await discovery.checkAll();
    jest.setSystemTime(1_005_000);
    results.set(healthUrl, true);
    await discovery.checkAll();
    jest.setSystemTime(1_008_000);
    results.set(healthUrl, false);
    await discovery.checkAll();
    jest.setSystemTime(1_017_999);
    await discovery.checkAll();
    expect(seen.at(-1)).toEqual(['a:down']);
    jest.setSystemTime(1_018_000);
    await discovery.checkAll();
    expect(seen.at(-1)).toEqual([]);
    await discovery.close();
  });

  it('counts the critical time of an instance that never passed from its registration', async () => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['queueMicrotask', 'nextTick'] });
    const { discovery, results, seen } = checked({ deregisterCriticalAfterMs: 10_000 });
    results.set(healthUrl, false);
    await discovery.register(registration('a'));
    jest.setSystemTime(1_010_000);
    await discovery.checkAll();
    expect(seen).toEqual([[], ['a:down'], []]);
    await discovery.close();
  });

  it('checks on its own every interval, and stops when closed', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
    const { discovery, results, calls, seen } = checked({ healthIntervalMs: 1000 });
    await discovery.register(registration('a'));
    results.set(healthUrl, false);
    await jest.advanceTimersByTimeAsync(999);
    expect(calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    expect(seen.at(-1)).toEqual(['a:down']);
    await discovery.close();
    await jest.advanceTimersByTimeAsync(5000);
    expect(calls).toHaveLength(2);
  });

  it('sets no timer when checking is off', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
    const discovery = new InMemoryDiscovery({ checkHealth: async () => true });
    expect(jest.getTimerCount()).toBe(0);
    await discovery.close();
  });

  it('runs one round at a time: a round asked for while one is in flight is skipped', async () => {
    let release: (passed: boolean) => void = () => undefined;
    let calls = 0;
    const discovery = new InMemoryDiscovery({
      healthIntervalMs: 60_000,
      checkHealth: () => {
        calls += 1;
        return calls === 1 ? Promise.resolve(true) : new Promise((resolve) => (release = resolve));
      },
    });
    await discovery.register(registration('a'));
    const first = discovery.checkAll();
    await discovery.checkAll();
    expect(calls).toBe(2);
    release(true);
    await first;
    const third = discovery.checkAll();
    release(true);
    await third;
    expect(calls).toBe(3);
    await discovery.close();
  });

  it('runs the next round after a round whose check threw', async () => {
    let answer: boolean | Error = true;
    const discovery = new InMemoryDiscovery({
      healthIntervalMs: 60_000,
      checkHealth: async () => {
        if (answer instanceof Error) throw answer;
        return answer;
      },
    });
    const seen: boolean[][] = [];
    await discovery.watch((instances) => seen.push(instances.map((i) => i.healthy)));
    await discovery.register(registration('a'));
    answer = new Error('check crashed');
    await expect(discovery.checkAll()).rejects.toThrow('check crashed');
    answer = false;
    await discovery.checkAll();
    expect(seen).toEqual([[], [true], [false]]);
    await discovery.close();
  });
});

describe('InMemoryDiscovery watchers and instances', () => {
  it('stops calling a watcher once it stops, or once discovery closes', async () => {
    const discovery = new InMemoryDiscovery();
    const stopped: number[] = [];
    const closed: number[] = [];
    const watch = await discovery.watch((instances) => stopped.push(instances.length));
    await discovery.watch((instances) => closed.push(instances.length));
    await discovery.register(registration('a'));
    await watch.stop();
    await discovery.register(registration('b'));
    await discovery.close();
    await discovery.register(registration('c'));
    expect(stopped).toEqual([0, 1]);
    expect(closed).toEqual([0, 1, 2]);
  });

  it('lists instances by name then id, each with a copy of its meta (empty when none was given)', async () => {
    const discovery = new InMemoryDiscovery();
    const { meta: _meta, ...bare } = registration('c', 'users');
    await discovery.register(bare);
    await discovery.register(registration('b'));
    await discovery.register(registration('a'));
    let seen: ServiceInstance[] = [];
    await discovery.watch((instances) => (seen = instances));
    expect(seen).toEqual([
      { id: 'a', name: 'catalog', url: 'http://a/graphql', meta: { subgraph: 'catalog' }, healthy: true },
      { id: 'b', name: 'catalog', url: 'http://b/graphql', meta: { subgraph: 'catalog' }, healthy: true },
      { id: 'c', name: 'users', url: 'http://c/graphql', meta: {}, healthy: true },
    ]);
    await discovery.close();
  });

  it('logs each registration', async () => {
    const { logger, lines } = recordingLogger();
    const discovery = new InMemoryDiscovery({ logger });
    await discovery.register(registration('a'));
    expect(lines).toEqual([expect.objectContaining({ level: 'debug', msg: 'instance registered', instance: 'a' })]);
    await discovery.close();
  });
});

describe('httpHealthCheck', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/hang') return;
      res.statusCode = req.url === '/ready' ? 200 : 503;
      res.end('body');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('passes on a 2xx answer and fails on any other', async () => {
    await expect(httpHealthCheck(`${base}/ready`)).resolves.toBe(true);
    await expect(httpHealthCheck(`${base}/starting`)).resolves.toBe(false);
  });

  it('fails when nothing listens, and when the answer does not come within the timeout', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    await expect(httpHealthCheck(`http://127.0.0.1:${port}/ready`)).resolves.toBe(false);
    const started = performance.now();
    await expect(httpHealthCheck(`${base}/hang`, 200)).resolves.toBe(false);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('instance sets', () => {
  const instance = (id: string, name: string, healthy = true): ServiceInstance => ({
    id,
    name,
    url: `http://${id}/graphql`,
    meta: {},
    healthy,
  });

  it('sorts by name, then id, leaving the given list as it was', () => {
    const given = [instance('b', 'users'), instance('b', 'catalog'), instance('a', 'users')];
    expect(sortInstances(given).map((i) => `${i.name}/${i.id}`)).toEqual(['catalog/b', 'users/a', 'users/b']);
    expect(given.map((i) => `${i.name}/${i.id}`)).toEqual(['users/b', 'catalog/b', 'users/a']);
  });

  it('compares sets whatever their order, and tells a change of health apart', () => {
    expect(sameInstances([instance('a', 'x'), instance('b', 'x')], [instance('b', 'x'), instance('a', 'x')])).toBe(
      true,
    );
    expect(sameInstances([instance('a', 'x')], [instance('a', 'x', false)])).toBe(false);
    expect(sameInstances([instance('a', 'x')], [])).toBe(false);
  });
});

describe('what subgraphs and gateways of different versions agree on', () => {
  it('keeps the tag and meta key that gateways read, so a rolling upgrade never splits the platform', () => {
    expect(SUBGRAPH_TAG).toBe('trellis-subgraph');
    expect(SCHEMA_REVISION_META).toBe('schema_revision');
  });
});
