/**
 * The gateway's change feed on the embedded bus, time driven by hand: every gateway hears every
 * change and drops it through the sink, measuring how long it took; the TTLs stay shortened until
 * the feed hears its own heartbeat, and are shortened again when it falls silent.
 */
import { Registry } from 'prom-client';
import { ENTITY_CHANGES_TOPIC, InMemoryEventBus, encodeEntityChange, entityChangeKey, type EntityChange, type EventBus, type EventMessage } from '@trellis/kit/internal/events';
import { ManualClock } from '@trellis/kit/testing';
import { EntityChangeFeed, HEARTBEAT_HEADER, type ChangeSink } from '../../../../gateway/entityCache/changeFeed';
import { recordingLogger } from '../../../support/recordingLogger';
import { eventually } from '../../../support/graphql';

/** A sink that records what the feed asked of it. */
function recordingSink(): ChangeSink & { dropped: EntityChange[]; ttls: Array<number | undefined> } {
  const sink = {
    dropped: [] as EntityChange[],
    ttls: [] as Array<number | undefined>,
    invalidate: async (change: EntityChange) => void sink.dropped.push(change),
    shortenTtl: (maxAgeMs: number | undefined) => void sink.ttls.push(maxAgeMs),
  };
  return sink;
}

/** The bus, with switches: `down` fails every publish and subscribe (a broker gone), `publishesFail` publishes only. */
function switchableBus(inner: EventBus): EventBus & { down: boolean; publishesFail: boolean } {
  const bus = Object.create(inner) as EventBus & { down: boolean; publishesFail: boolean };
  bus.down = false;
  bus.publishesFail = false;
  bus.publish = async (topic, messages) => {
    if (bus.down || bus.publishesFail) throw new Error('broker down');
    return inner.publish(topic, messages);
  };
  bus.subscribe = async (options) => {
    if (bus.down) throw new Error('broker down');
    return inner.subscribe(options);
  };
  return bus;
}

const metric = async (registry: Registry, name: string, labels: Record<string, string> = {}) => {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = found?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  if (value === undefined) throw new Error(`${name} ${JSON.stringify(labels)} is not exported`);
  return value;
};
const histogramPart = async (registry: Registry, name: string, part: 'sum' | 'count') => {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = found?.values.find((v) => (v as { metricName?: string }).metricName === `${name}_${part}`)?.value;
  if (value === undefined) throw new Error(`${name}_${part} is not exported`);
  return value;
};
const histogramSum = (registry: Registry, name: string) => histogramPart(registry, name, 'sum');

const SETTINGS = { heartbeatMs: 1000, silenceMs: 3000, degradedTtlMs: 2000 };
const change = (id: string, at: number): EntityChange => ({ type: 'Product', key: { id }, fields: ['inStock'], source: 'catalog', at });
const announce = (bus: EventBus, c: EntityChange) => bus.publish(ENTITY_CHANGES_TOPIC, { key: entityChangeKey(c), value: encodeEntityChange(c) });

describe('EntityChangeFeed', () => {
  let memory: InMemoryEventBus;
  let bus: EventBus & { down: boolean; publishesFail: boolean };
  let clock: ManualClock;
  const feeds: EntityChangeFeed[] = [];

  const startFeed = async (gatewayId: string, sink = recordingSink(), registry = new Registry(), logger = recordingLogger().logger) => {
    const feed = new EntityChangeFeed({ events: bus, sink, logger, registry, gatewayId, clock, ...SETTINGS });
    feeds.push(feed);
    await feed.start();
    return { feed, sink, registry };
  };

  beforeEach(() => {
    memory = new InMemoryEventBus();
    bus = switchableBus(memory);
    clock = new ManualClock(1_700_000_000_000);
  });
  afterEach(async () => {
    for (const feed of feeds.splice(0)) await feed.stop();
    await memory.close();
  });

  it('shortens the TTLs from the start and restores them once it hears its own heartbeat', async () => {
    const { feed, sink, registry } = await startFeed('g1');
    expect(sink.ttls[0]).toBe(2000);
    await eventually(async () => expect(feed.isLive()).toBe(true));
    expect(sink.ttls).toEqual([2000, undefined]);
    expect(await metric(registry, 'trellis_entity_cache_feed_live')).toBe(1);
  });

  it('does not count another gateway’s heartbeat as its own', async () => {
    const heard: EventMessage[] = [];
    await bus.subscribe({ groupId: 'watch', topics: [ENTITY_CHANGES_TOPIC], handler: async (m) => void heard.push(m) });
    // Its own heartbeats never get through; another gateway's does.
    bus.publishesFail = true;
    const { feed, sink, registry } = await startFeed('g1');
    // Subscribed: it tried its first heartbeat, which it sends once subscribed.
    await eventually(async () => expect(await metric(registry, 'trellis_entity_cache_feed_heartbeat_failures_total')).toBe(1));
    await memory.publish(ENTITY_CHANGES_TOPIC, { key: 'heartbeat:g2', value: '{}', headers: { [HEARTBEAT_HEADER]: 'g2' } });
    await eventually(async () => expect(heard.map((m) => m.headers[HEARTBEAT_HEADER])).toEqual(['g2']));
    // The feed handled g2's heartbeat (the bus hands a group its messages in order) and stayed degraded.
    await announce(memory, change('p0', clock.now()));
    await eventually(async () => expect(sink.dropped).toHaveLength(1));
    expect(feed.isLive()).toBe(false);
    expect(sink.ttls).toEqual([2000]);
  });

  it('has every gateway drop every change, each measuring how long it took to arrive', async () => {
    const one = await startFeed('g1');
    const two = await startFeed('g2');
    await announce(bus, change('p1', clock.now() - 250));
    await announce(bus, change('p2', clock.now() - 750));
    for (const gateway of [one, two]) {
      await eventually(async () => expect(gateway.sink.dropped.map((c) => c.key.id)).toEqual(['p1', 'p2']));
      expect(await metric(gateway.registry, 'trellis_entity_cache_changes_received_total', { type: 'Product' })).toBe(2);
      expect(await histogramSum(gateway.registry, 'trellis_entity_cache_change_delivery_seconds')).toBeCloseTo(1.0, 5);
    }
    expect(one.sink.dropped[0]).toEqual(change('p1', clock.now() - 250));
  });

  it('falls back to the short TTL when its heartbeat stops coming back, loudly, and restores it when it comes back', async () => {
    const { logger, lines } = recordingLogger();
    const { feed, sink, registry } = await startFeed('g1', recordingSink(), new Registry(), logger);
    await eventually(async () => expect(feed.isLive()).toBe(true));
    // The heartbeat it heard has settled its publish too.
    await new Promise((resolve) => setImmediate(resolve));
    bus.down = true;
    // Three heartbeats lost (3 s) is not yet past the silence; the fourth beat finds it past.
    const beat = async () => {
      clock.advance(1000);
      // Lets the failed publish settle, so the next beat sends one again (one heartbeat in flight at most).
      await new Promise((resolve) => setImmediate(resolve));
    };
    for (let n = 0; n < 3; n++) await beat();
    expect(feed.isLive()).toBe(true);
    await beat();
    expect(feed.isLive()).toBe(false);
    expect(sink.ttls).toEqual([2000, undefined, 2000]);
    expect(await metric(registry, 'trellis_entity_cache_feed_live')).toBe(0);
    expect(await metric(registry, 'trellis_entity_cache_feed_outages_total')).toBe(1);
    await eventually(async () => expect(await metric(registry, 'trellis_entity_cache_feed_heartbeat_failures_total')).toBe(4));
    expect(lines.find((line) => line.level === 'warn')).toMatchObject({ gatewayId: 'g1', silentMs: 4000, degradedTtlMs: 2000 });
    bus.down = false;
    clock.advance(1000);
    await eventually(async () => expect(feed.isLive()).toBe(true));
    expect(sink.ttls).toEqual([2000, undefined, 2000, undefined]);
  });

  it('starts at once with the bus down, serving young entries, and subscribes with backoff once the bus is back', async () => {
    bus.down = true;
    const { logger, lines } = recordingLogger();
    const { feed, sink } = await startFeed('g1', recordingSink(), new Registry(), logger);
    expect(sink.ttls).toEqual([2000]);
    await eventually(async () => expect(lines.find((line) => line.level === 'warn')).toMatchObject({ msg: expect.stringContaining('cannot subscribe yet'), err: 'broker down' }));
    bus.down = false;
    // The retry is due after the backoff (500 ms less jitter at most).
    clock.advance(500);
    await eventually(async () => expect(feed.isLive()).toBe(true));
    expect(sink.ttls).toEqual([2000, undefined]);
  });

  it('dead-letters a change it cannot read, and drops the next one', async () => {
    const dead: EventMessage[] = [];
    await bus.subscribe({ groupId: 'dlq', topics: [`${ENTITY_CHANGES_TOPIC}.dlq`], handler: async (m) => void dead.push(m) });
    const { sink } = await startFeed('g1');
    await memory.publish(ENTITY_CHANGES_TOPIC, { key: 'Product:{"id":"p1"}', value: '{"type":"Product"}' });
    await announce(memory, change('p2', clock.now()));
    await eventually(async () => expect(dead).toHaveLength(1));
    expect(dead[0].headers['x-dlq-error']).toMatch(/not an entity change/);
    await eventually(async () => expect(sink.dropped.map((c) => c.key.id)).toEqual(['p2']));
  });

  it('joins a consumer group of its own at the newest change, and sends heartbeats naming itself', async () => {
    const subscribed: Array<{ groupId: string; topics: string[]; fromBeginning?: boolean }> = [];
    const published: Array<{ key?: string; value: string; headers?: Record<string, string> }> = [];
    const subscribe = bus.subscribe;
    bus.subscribe = async (options) => {
      subscribed.push({ groupId: options.groupId, topics: options.topics, fromBeginning: options.fromBeginning });
      return subscribe(options);
    };
    const publish = bus.publish;
    bus.publish = async (topic, messages) => {
      if (topic === ENTITY_CHANGES_TOPIC) published.push(...(Array.isArray(messages) ? messages : [messages]));
      return publish(topic, messages);
    };
    // A change announced before the gateway started is not replayed: its cache had nothing of it.
    await announce(memory, change('old', clock.now()));
    const { feed, sink } = await startFeed('g1');
    await eventually(async () => expect(feed.isLive()).toBe(true));
    expect(subscribed).toEqual([{ groupId: 'trellis-gateway-entity-changes-g1', topics: [ENTITY_CHANGES_TOPIC], fromBeginning: false }]);
    expect(published[0]).toEqual({ key: 'heartbeat:g1', value: JSON.stringify({ gateway: 'g1', at: clock.now() }), headers: { [HEARTBEAT_HEADER]: 'g1' } });
    await announce(memory, change('new', clock.now()));
    await eventually(async () => expect(sink.dropped.map((c) => c.key.id)).toEqual(['new']));
  });

  it('counts a change announced by a clock ahead of its own as delivered at once', async () => {
    const { sink, registry } = await startFeed('g1');
    await announce(bus, change('p1', clock.now() + 5_000));
    await eventually(async () => expect(await histogramPart(registry, 'trellis_entity_cache_change_delivery_seconds', 'count')).toBe(1));
    expect(sink.dropped).toHaveLength(1);
    expect(await histogramSum(registry, 'trellis_entity_cache_change_delivery_seconds')).toBe(0);
  });

  it('exports its gauge as not live before it starts', async () => {
    const registry = new Registry();
    feeds.push(new EntityChangeFeed({ events: bus, sink: recordingSink(), logger: recordingLogger().logger, registry, gatewayId: 'g1', clock, ...SETTINGS }));
    expect(await metric(registry, 'trellis_entity_cache_feed_live')).toBe(0);
    expect(await metric(registry, 'trellis_entity_cache_feed_outages_total')).toBe(0);
  });

  it('never heard: stays shortened without counting outages, and sends one heartbeat at a time while a publish hangs', async () => {
    let publishes = 0;
    bus.publish = () => {
      publishes += 1;
      return new Promise<void>(() => undefined);
    };
    const { feed, sink, registry } = await startFeed('g1');
    await eventually(async () => expect(publishes).toBe(1));
    for (let n = 0; n < 10; n++) {
      clock.advance(1000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(publishes).toBe(1);
    expect(feed.isLive()).toBe(false);
    expect(sink.ttls).toEqual([2000]);
    expect(await metric(registry, 'trellis_entity_cache_feed_outages_total')).toBe(0);
  });

  it('says in the log when it hears again', async () => {
    const { logger, lines } = recordingLogger();
    const { feed } = await startFeed('g1', recordingSink(), new Registry(), logger);
    await eventually(async () => expect(feed.isLive()).toBe(true));
    expect(lines.filter((line) => line.level === 'info')).toMatchObject([{ gatewayId: 'g1', msg: 'entity change feed live: cached entries live their declared TTLs' }]);
  });

  it('once stopped, hears no change and sends no heartbeat', async () => {
    let publishes = 0;
    const publish = bus.publish;
    bus.publish = async (topic, messages) => {
      publishes += 1;
      return publish(topic, messages);
    };
    const { feed, sink } = await startFeed('g1');
    await eventually(async () => expect(feed.isLive()).toBe(true));
    await feed.stop();
    const sent = publishes;
    clock.advance(5_000);
    await announce(memory, change('p1', clock.now()));
    const seen: EventMessage[] = [];
    await memory.subscribe({ groupId: 'watch', topics: [ENTITY_CHANGES_TOPIC], fromBeginning: true, handler: async (m) => void seen.push(m) });
    await eventually(async () => expect(seen.some((m) => m.key === 'Product:{"id":"p1"}')).toBe(true));
    expect(sink.dropped).toEqual([]);
    expect(publishes).toBe(sent);
  });

  it('stops while the bus is down, giving up subscribing', async () => {
    bus.down = true;
    let subscribes = 0;
    const subscribe = bus.subscribe;
    bus.subscribe = async (options) => {
      subscribes += 1;
      return subscribe(options);
    };
    const { feed } = await startFeed('g1');
    await eventually(async () => expect(subscribes).toBe(1));
    await Promise.all([feed.stop(), Promise.resolve().then(() => clock.advance(10_000))]);
    bus.down = false;
    clock.advance(10_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(subscribes).toBe(1);
    expect(feed.isLive()).toBe(false);
  });
});
