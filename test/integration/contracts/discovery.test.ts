/** One contract, three implementations: in-memory (health-checked), through the dev hub, and real Consul. */
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
  ['in-memory', async () => ({ discovery: new InMemoryDiscovery({ healthIntervalMs: 200 }), close: async () => undefined })],
  [
    'dev hub',
    async () => {
      const server = new DevHubServer({ targets: { discovery: new InMemoryDiscovery({ healthIntervalMs: 200 }) } });
      const client = await DevHubClient.connect(await server.start());
      return { discovery: client.remote<Discovery>('discovery'), close: async () => (await client.close(), await server.stop()) };
    },
  ],
  [
    'consul',
    async () => {
      const discovery = new ConsulDiscovery({ url: realBackends.consulUrl, checkInterval: '200ms', blockingWait: '5s' });
      return { discovery, close: () => discovery.close() };
    },
  ],
];

/** A tiny instance whose readiness endpoint can be flipped. */
async function fakeInstance(): Promise<{ port: number; setReady(ready: boolean): void; close(): Promise<void> }> {
  let ready = true;
  const server: Server = createServer((req, res) => {
    res.writeHead(req.url === '/health/ready' && !ready ? 503 : 200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    setReady: (value) => (ready = value),
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
