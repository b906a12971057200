import { InMemoryDiscovery, type ServiceInstance } from '../../../shared/discovery';

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
    const discovery = new InMemoryDiscovery({ healthIntervalMs: 60_000, checkHealth: async (url) => healthy.get(url) ?? false });
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
    const discovery = new InMemoryDiscovery({ healthIntervalMs: 60_000, deregisterCriticalAfterMs: 0, checkHealth: async () => false });
    await discovery.register(registration('a'));
    await discovery.checkAll();
    const seen: string[][] = [];
    await discovery.watch((instances) => seen.push(instances.map((i) => i.id)));
    expect(seen).toEqual([[]]);
    await discovery.close();
  });
});
