import { DevHubClient, DevHubServer } from '@trellis/kit/internal/devhub';
import { InMemoryDiscovery, type Discovery, type ServiceInstance } from '@trellis/kit/internal/discovery';
import { InMemoryStateStore, type StateStore } from '@trellis/kit/internal/state';
import { InMemoryEventBus, type EventBus, type EventMessage } from '@trellis/kit/internal/events';
import { eventually } from '../../support/graphql';

describe('dev hub', () => {
  let server: DevHubServer;
  let client: DevHubClient;
  let discovery: Discovery;
  let state: StateStore;
  let events: EventBus;

  beforeEach(async () => {
    server = new DevHubServer({
      targets: { discovery: new InMemoryDiscovery(), state: new InMemoryStateStore(), events: new InMemoryEventBus() },
    });
    client = await DevHubClient.connect(await server.start());
    discovery = client.remote<Discovery>('discovery');
    state = client.remote<StateStore>('state');
    events = client.remote<EventBus>('events');
  });

  afterEach(async () => {
    await client.close();
    await server.stop();
  });

  it('serves discovery watches across the connection', async () => {
    const seen: ServiceInstance[][] = [];
    const watch = await discovery.watch((instances) => seen.push(instances));
    await discovery.register({ id: 'a', name: 'users', url: 'http://a/graphql', healthUrl: 'http://a/health' });
    await eventually(async () => expect(seen.at(-1)?.map((i) => i.id)).toEqual(['a']));
    await watch.stop();
    const heardBeforeStop = seen.length;
    // A witness still watching hears 'b'; a round trip over the same connection after it is a barrier:
    // frames arrive in order, so anything sent to the stopped watch would have landed before its answer.
    const witnessed: string[][] = [];
    const witness = await discovery.watch((instances) => witnessed.push(instances.map((i) => i.id)));
    await discovery.register({ id: 'b', name: 'users', url: 'http://b/graphql', healthUrl: 'http://b/health' });
    await eventually(async () => expect(witnessed.at(-1)).toEqual(['a', 'b']));
    await state.get('barrier');
    await witness.stop();
    expect(seen).toHaveLength(heardBeforeStop);
    expect(seen.at(-1)?.map((i) => i.id)).toEqual(['a']);
  });

  it('keeps compare-and-set semantics through the hub', async () => {
    expect(await state.compareAndSet('saga:1', 0, 'v1')).toBe(1);
    expect(await state.compareAndSet('saga:1', 0, 'again')).toBeNull();
    expect(await state.compareAndSet('saga:1', 1, 'v2')).toBe(2);
    expect(await state.getVersioned('saga:1')).toEqual({ value: 'v2', version: 2 });
  });

  it('runs remote event handlers and dead-letters a message whose handler keeps throwing', async () => {
    await events.ensureTopics(['orders']);
    const handled: string[] = [];
    const dead: EventMessage[] = [];
    await events.subscribe({
      groupId: 'g',
      topics: ['orders'],
      maxAttempts: 2,
      handler: async (message) => {
        if (message.value === 'poison') throw new Error('cannot parse');
        handled.push(message.value);
      },
    });
    await events.subscribe({ groupId: 'dlq', topics: ['orders.dlq'], handler: async (message) => void dead.push(message) });
    await events.publish('orders', [{ value: 'one' }, { value: 'poison' }, { value: 'two' }]);
    await eventually(async () => expect(handled).toEqual(['one', 'two']));
    await eventually(async () => expect(dead.map((m) => m.headers['x-dlq-error'])).toEqual(['failed 2 times: cannot parse']));
  });

  it('fails fast once the hub is gone', async () => {
    await server.stop();
    await expect(state.get('x')).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });
});
