/**
 * One contract, three implementations: in-memory (health-checked), through the dev hub, and real Consul. Each is set to
 * count an instance unhealthy after two failed readiness checks in a row (Consul's `FailuresBeforeCritical`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConsulDiscovery, InMemoryDiscovery, type Discovery, type ServiceInstance } from '@trellis/kit/internal/discovery';
import { DevHubClient, DevHubServer } from '@trellis/kit/internal/devhub';
import { eventually } from '../../support/graphql';
import { realBackends, uniquePrefix } from '../../support/backends';

interface Subject {
  discovery: Discovery;
  close: () => Promise<void>;
}

const implementations: Array<[string, () => Promise<Subject>]> = [
  ['in-memory', async () => ({ discovery: new InMemoryDiscovery({ healthIntervalMs: 200, failuresBeforeUnhealthy: 2 }), close: async () => undefined })],
  [
    'dev hub',
    async () => {
      const server = new DevHubServer({ targets: { discovery: new InMemoryDiscovery({ healthIntervalMs: 200, failuresBeforeUnhealthy: 2 }) } });
      const client = await DevHubClient.connect(await server.start());
      return { discovery: client.remote<Discovery>('discovery'), close: async () => (await client.close(), await server.stop()) };
    },
  ],
  [
    'consul',
    async () => {
      const discovery = new ConsulDiscovery({ url: realBackends.consulUrl, checkInterval: '200ms', failuresBeforeCritical: 2, blockingWait: '5s' });
      return { discovery, close: () => discovery.close() };
    },
  ],
];

interface FakeInstance {
  port: number;
  setReady(ready: boolean): void;
  /** Readiness checks answered so far. */
  checks(): number;
  /** The next readiness check fails (503) and later ones pass; resolves once `after` checks have passed since. */
  failOnce(after: number): Promise<void>;
  close(): Promise<void>;
}

/** A tiny instance whose readiness endpoint can be flipped, or made to fail one check. */
async function fakeInstance(): Promise<FakeInstance> {
  let ready = true;
  let checks = 0;
  let failing: { after: number; passed: number; failed: boolean; done: () => void } | undefined;
  const server: Server = createServer((req, res) => {
    if (req.url !== '/health/ready') return void res.writeHead(200).end();
    checks += 1;
    if (failing && !failing.failed) {
      failing.failed = true;
      return void res.writeHead(503).end();
    }
    if (failing && ready && ++failing.passed >= failing.after) failing.done();
    res.writeHead(ready ? 200 : 503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    setReady: (value) => (ready = value),
    checks: () => checks,
    failOnce: (after) => new Promise<void>((done) => (failing = { after, passed: 0, failed: false, done })),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe.each(implementations)('Discovery contract: %s', (_name, make) => {
  let subject: Subject;
  let name: string;
  let seen: ServiceInstance[][];
  const mine = () => (seen.at(-1) ?? []).filter((instance) => instance.name.startsWith(name));

  beforeEach(async () => {
    subject = await make();
    name = uniquePrefix('svc');
    seen = [];
  });
  afterEach(() => subject.close());

  const register = (id: string, port: number) =>
    subject.discovery.register({
      id,
      name,
      url: `http://127.0.0.1:${port}/graphql`,
      healthUrl: `http://127.0.0.1:${port}/health/ready`,
      meta: { subgraph: name, graphqlPath: '/graphql' },
    });

  it('reports registered instances with their URL and meta, and drops deregistered ones', async () => {
    const a = await fakeInstance();
    const b = await fakeInstance();
    const watch = await subject.discovery.watch((instances) => seen.push(instances));
    try {
      await register(`${name}-a`, a.port);
      await register(`${name}-b`, b.port);
      await eventually(async () => expect(mine().map((i) => i.id)).toEqual([`${name}-a`, `${name}-b`]), 10_000);
      expect(mine()[0]).toMatchObject({ name, url: `http://127.0.0.1:${a.port}/graphql`, meta: expect.objectContaining({ subgraph: name }) });

      await subject.discovery.deregister(`${name}-a`);
      await eventually(async () => expect(mine().map((i) => i.id)).toEqual([`${name}-b`]), 10_000);
      await subject.discovery.deregister(`${name}-b`);
      await eventually(async () => expect(mine()).toEqual([]), 10_000);
    } finally {
      await watch.stop();
      await a.close();
      await b.close();
    }
  });

  it('marks an instance unhealthy while its readiness check fails, and healthy when it passes', async () => {
    const a = await fakeInstance();
    const watch = await subject.discovery.watch((instances) => seen.push(instances));
    try {
      await register(`${name}-a`, a.port);
      await eventually(async () => expect(mine().map((i) => i.healthy)).toEqual([true]), 10_000);
      a.setReady(false);
      await eventually(async () => expect(mine().map((i) => i.healthy)).toEqual([false]), 10_000);
      a.setReady(true);
      await eventually(async () => expect(mine().map((i) => i.healthy)).toEqual([true]), 10_000);
    } finally {
      await subject.discovery.deregister(`${name}-a`);
      await watch.stop();
      await a.close();
    }
  });

  it('keeps an instance healthy through one failed readiness check (a slow moment is not a dead instance)', async () => {
    const a = await fakeInstance();
    const watch = await subject.discovery.watch((instances) => seen.push(instances));
    try {
      await register(`${name}-a`, a.port);
      await eventually(async () => expect(mine().map((i) => i.healthy)).toEqual([true]), 10_000);
      // Consul counts failures from its first check's result (a check that fails before any passed is critical at once).
      await eventually(async () => expect(a.checks()).toBeGreaterThan(0), 10_000);
      const from = seen.length;
      // Waits for what it asserts on: the failed check, then three checks passed after it, each reported had it flipped.
      await a.failOnce(3);
      const reported = seen.slice(from).map((instances) => instances.filter((i) => i.name.startsWith(name)).map((i) => i.healthy));
      expect(reported.filter((states) => states.includes(false))).toEqual([]);
      expect(mine().map((i) => i.healthy)).toEqual([true]);
    } finally {
      await subject.discovery.deregister(`${name}-a`);
      await watch.stop();
      await a.close();
    }
  });

  it('stops reporting after the watch stops', async () => {
    const a = await fakeInstance();
    const watch = await subject.discovery.watch((instances) => seen.push(instances));
    await watch.stop();
    const count = seen.length;
    // A watch still open sees the instance come up: by then the stopped one would have heard of it too.
    const witnessed: ServiceInstance[][] = [];
    const witness = await subject.discovery.watch((instances) => witnessed.push(instances));
    await register(`${name}-a`, a.port);
    await eventually(async () => expect(witnessed.at(-1)?.filter((i) => i.name.startsWith(name)).map((i) => i.id)).toEqual([`${name}-a`]), 10_000);
    await witness.stop();
    expect(seen.length).toBe(count);
    await subject.discovery.deregister(`${name}-a`);
    await a.close();
  });
});
