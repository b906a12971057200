/** The kit's announcer: a change goes out keyed by its entity, a failing publish is retried, one that keeps failing is given up loudly and never thrown. */
import { Registry } from 'prom-client';
import { ENTITY_CHANGES_TOPIC, InMemoryEventBus, createChangeAnnouncer, decodeEntityChange, entityChangeKey, InvalidEntityChangeError, type EventBus, type EventMessage } from '@trellis/kit/internal/events';
import { ManualClock } from '@trellis/kit/testing';
import { systemClock, type Clock } from '@trellis/kit/saga';
import { recordingLogger } from '../../../support/recordingLogger';
import { eventually } from '../../../support/graphql';

const counted = async (registry: Registry, name: string, type: string) => {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => v.labels.type === type)?.value;
  if (value === undefined) throw new Error(`${name}{type="${type}"} is not exported`);
  return value;
};

/** A bus whose publish fails `failures` times before it passes on to the real one. */
function failingBus(inner: EventBus, failures: number): EventBus & { attempts: number } {
  const bus = Object.create(inner) as EventBus & { attempts: number };
  bus.attempts = 0;
  bus.publish = async (topic, messages) => {
    bus.attempts += 1;
    if (bus.attempts <= failures) throw new Error(`broker down (${bus.attempts})`);
    return inner.publish(topic, messages);
  };
  return bus;
}

/** A bus whose publish never answers, counting the attempts. */
function hungBus(inner: EventBus): EventBus & { attempts: number } {
  const bus = Object.create(inner) as EventBus & { attempts: number };
  bus.attempts = 0;
  bus.publish = () => {
    bus.attempts += 1;
    return new Promise<void>(() => undefined);
  };
  return bus;
}

describe('createChangeAnnouncer', () => {
  let bus: InMemoryEventBus;
  let received: EventMessage[];

  beforeEach(async () => {
    bus = new InMemoryEventBus();
    received = [];
    await bus.subscribe({ groupId: 'feed', topics: [ENTITY_CHANGES_TOPIC], handler: async (m) => void received.push(m) });
  });
  afterEach(() => bus.close());

  it('publishes each change on the change topic, keyed by its entity, with its source and the time of the announcement', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const registry = new Registry();
    const announce = createChangeAnnouncer({ events: bus, source: 'catalog', logger: recordingLogger().logger, registry, clock });
    await announce([
      { type: 'Product', key: { id: 'p1' }, fields: ['inStock'] },
      { type: 'Product', key: { sku: 'b', id: 'p2' } },
    ]);
    await eventually(async () => expect(received).toHaveLength(2));
    expect(received.map((m) => m.key)).toEqual(['Product:{"id":"p1"}', 'Product:{"id":"p2","sku":"b"}']);
    expect(received.map((m) => decodeEntityChange(m.value))).toEqual([
      { type: 'Product', key: { id: 'p1' }, fields: ['inStock'], source: 'catalog', at: 1_700_000_000_000 },
      { type: 'Product', key: { id: 'p2', sku: 'b' }, source: 'catalog', at: 1_700_000_000_000 },
    ]);
    expect(received[1].key).toBe(entityChangeKey({ type: 'Product', key: { id: 'p2', sku: 'b' } }));
    expect(await counted(registry, 'trellis_entity_changes_announced_total', 'Product')).toBe(2);
  });

  it('refuses a change with no key fields, an empty field list or a type that is no GraphQL name, before publishing anything', async () => {
    const announce = createChangeAnnouncer({ events: bus, source: 'catalog', logger: recordingLogger().logger });
    await expect(announce({ type: 'Product', key: {} })).rejects.toThrow(new InvalidEntityChangeError('entity change of Product needs a key with at least one field'));
    await expect(announce({ type: 'Product', key: { id: 'p1' }, fields: [] })).rejects.toThrow('fields, when given, name at least one field');
    await expect(announce([{ type: 'Product', key: { id: 'p1' } }, { type: 'Pro duct', key: { id: 'p1' } }])).rejects.toThrow('"Pro duct" is not a GraphQL type name');
    await announce([]);
    await announce({ type: 'Product', key: { id: 'p9' } });
    await eventually(async () => expect(received).toHaveLength(1));
    expect(decodeEntityChange(received[0].value).key).toEqual({ id: 'p9' });
  });

  it('retries a failing publish with backoff until it goes through, warning once', async () => {
    const flaky = failingBus(bus, 3);
    const { logger, lines } = recordingLogger();
    const registry = new Registry();
    const announce = createChangeAnnouncer({ events: flaky, source: 'payments', logger, registry, backoff: { initialDelayMs: 1, maxDelayMs: 5 } });
    await announce({ type: 'Order', key: { id: 'o1' } });
    expect(flaky.attempts).toBe(4);
    await eventually(async () => expect(received).toHaveLength(1));
    expect(received.map((m) => decodeEntityChange(m.value).key)).toEqual([{ id: 'o1' }]);
    expect(lines.filter((line) => line.msg === 'entity change not published yet; retrying')).toHaveLength(1);
    expect(await counted(registry, 'trellis_entity_changes_announced_total', 'Order')).toBe(1);
  });

  it('gives a change up after retryForMs: resolves all the same, logs an error naming the entity and counts it as failed', async () => {
    const down = failingBus(bus, Number.POSITIVE_INFINITY);
    const { logger, lines } = recordingLogger();
    const registry = new Registry();
    // 300 ms of 5–10 ms backoffs: retried even when a loaded machine stalls this process for a while.
    const announce = createChangeAnnouncer({ events: down, source: 'catalog', logger, registry, retryForMs: 300, backoff: { initialDelayMs: 5, maxDelayMs: 10 } });
    const started = Date.now();
    await expect(announce({ type: 'Product', key: { id: 'p1' } })).resolves.toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(295);
    expect(down.attempts).toBeGreaterThanOrEqual(2);
    const error = lines.find((line) => line.level === 'error');
    expect(error).toMatchObject({ changes: ['Product:{"id":"p1"}'], retryForMs: 300, err: expect.stringContaining('broker down') });
    expect(await counted(registry, 'trellis_entity_changes_failed_total', 'Product')).toBe(1);
    expect(received).toHaveLength(0);
  });

  it('refuses a null key, and fields that are empty or not names', async () => {
    const announce = createChangeAnnouncer({ events: bus, source: 'catalog', logger: recordingLogger().logger });
    await expect(announce({ type: 'Product', key: null as unknown as Record<string, unknown> })).rejects.toThrow('entity change of Product needs a key with at least one field');
    await expect(announce({ type: 'Product', key: { id: 'p1' }, fields: ['inStock', ''] })).rejects.toThrow(InvalidEntityChangeError);
    await expect(announce({ type: 'Product', key: { id: 'p1' }, fields: [5 as unknown as string] })).rejects.toThrow('entity change of Product: fields, when given, name at least one field');
    for (const type of ['Product!', ' Product', '']) await expect(announce({ type, key: { id: 'p1' } })).rejects.toThrow('is not a GraphQL type name');
    await announce({ type: '_Private', key: { id: 'p1' } });
    await eventually(async () => expect(received.map((m) => m.key)).toEqual(['_Private:{"id":"p1"}']));
  });

  it('makes sure of the topic once, and again after that failed', async () => {
    let ensured = 0;
    const flaky = Object.create(bus) as EventBus;
    flaky.ensureTopics = async (topics) => {
      ensured += 1;
      if (ensured === 1) throw new Error('no controller yet');
      return bus.ensureTopics(topics);
    };
    const announce = createChangeAnnouncer({ events: flaky, source: 'catalog', logger: recordingLogger().logger, backoff: { initialDelayMs: 1, maxDelayMs: 1 } });
    await announce({ type: 'Product', key: { id: 'p1' } });
    await announce({ type: 'Product', key: { id: 'p2' } });
    expect(ensured).toBe(2);
    await eventually(async () => expect(received).toHaveLength(2));
  });

  it('gives a hung publish the time left rather than starting it again, and never sleeps past the deadline', async () => {
    const hung = hungBus(bus);
    const { logger, lines } = recordingLogger();
    const announce = createChangeAnnouncer({ events: hung, source: 'catalog', logger, retryForMs: 100 });
    await announce({ type: 'Product', key: { id: 'p1' } });
    expect(hung.attempts).toBe(1);
    expect(lines.find((line) => line.level === 'error')).toMatchObject({ err: 'entity changes not published within 100 ms' });

    const down = failingBus(bus, Number.POSITIVE_INFINITY);
    const slowBackoff = createChangeAnnouncer({ events: down, source: 'catalog', logger, retryForMs: 100, backoff: { initialDelayMs: 10_000, maxDelayMs: 10_000 } });
    const started = Date.now();
    await slowBackoff({ type: 'Product', key: { id: 'p1' } });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('does not start a hung publish again when its timer fires before the clock reaches the deadline', async () => {
    // Node's timers may fire a millisecond before Date.now() says their time is up; a clock running at 90% of the timers' pace makes that certain.
    const started = Date.now();
    const behind: Clock = { now: () => started + Math.floor((Date.now() - started) * 0.9), setTimeout: (callback, ms) => systemClock.setTimeout(callback, ms) };
    const hung = hungBus(bus);
    const { logger, lines } = recordingLogger();
    await createChangeAnnouncer({ events: hung, source: 'catalog', logger, retryForMs: 50, clock: behind })({ type: 'Product', key: { id: 'p1' } });
    expect(hung.attempts).toBe(1);
    expect(lines.filter((line) => line.level === 'error')).toHaveLength(1);
  });

  it('counts on one registry for every announcer of a process', async () => {
    const registry = new Registry();
    const logger = recordingLogger().logger;
    await createChangeAnnouncer({ events: bus, source: 'catalog', logger, registry })({ type: 'Product', key: { id: 'p1' } });
    await createChangeAnnouncer({ events: bus, source: 'stock', logger, registry })({ type: 'Product', key: { id: 'p2' } });
    expect(await counted(registry, 'trellis_entity_changes_announced_total', 'Product')).toBe(2);
  });
});
