/**
 * The keyed consumer on the real broker: within one partition, different keys run at once and one
 * key in order; a retriable failure holds back only its key; and the committed offset never passes
 * a message not yet handled, so the next member of the group starts from it.
 */
import { KafkaEventBus, type EventMessage, type Subscription } from '@trellis/kit/internal/events';
import { BackendUnavailableError } from '@trellis/kit/internal/errors';
import { eventually } from '../../support/graphql';
import { realBackends, uniquePrefix } from '../../support/backends';

/** One partition per topic: every key of the test shares it. */
const newBus = () => new KafkaEventBus({ brokers: realBackends.kafkaBrokers, clientId: 'keyed', partitions: 1 });

describe('KafkaEventBus keyed consumer', () => {
  let bus: KafkaEventBus;
  let topic: string;
  const subscriptions: Subscription[] = [];
  beforeEach(async () => {
    bus = newBus();
    topic = uniquePrefix('keyed');
    await bus.ensureTopics([topic]);
  });
  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
    await bus.close();
  });

  it('runs other keys of the partition while one key waits, and each key in order', async () => {
    let release!: () => void;
    const aWaits = new Promise<void>((resolve) => (release = resolve));
    const finished: string[] = [];
    const events: string[] = [];
    subscriptions.push(
      await bus.subscribe({
        groupId: uniquePrefix('keyed-g'),
        topics: [topic],
        fromBeginning: true,
        handler: async (m) => {
          events.push(`start ${m.value}`);
          // a1 waits until b2 ends: only a consumer that runs keys of one partition at once gets past it.
          if (m.value === 'a1') await aWaits;
          if (m.value === 'b2') release();
          finished.push(m.value);
          events.push(`end ${m.value}`);
        },
      }),
    );
    await bus.publish(topic, [
      { key: 'a', value: 'a1' },
      { key: 'a', value: 'a2' },
      { key: 'b', value: 'b1' },
      { key: 'b', value: 'b2' },
    ]);
    await eventually(async () => expect(finished).toHaveLength(4), 20_000);
    expect(finished.filter((v) => v.startsWith('a'))).toEqual(['a1', 'a2']);
    expect(finished.indexOf('b2')).toBeLessThan(finished.indexOf('a1'));
    // a2 never started before a1 ended.
    expect(events.indexOf('start a2')).toBeGreaterThan(events.indexOf('end a1'));
  });

  it('holds back only the failing key; the committed offset stays at its message, so the next member starts there', async () => {
    const group = uniquePrefix('keyed-retry');
    const handled: EventMessage[] = [];
    let failures = 0;
    const first = await bus.subscribe({
      groupId: group,
      topics: [topic],
      fromBeginning: true,
      backoff: { initialDelayMs: 20, maxDelayMs: 100, jitter: 0 },
      handler: async (m) => {
        if (m.key === 'blocked') {
          failures += 1;
          throw new BackendUnavailableError('redis', 'connection refused');
        }
        handled.push(m);
      },
    });
    await bus.publish(topic, [{ key: 'blocked', value: 'first' }, ...Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `m${i}` })), { key: 'blocked', value: 'second' }]);
    // Same partition, other keys: all handled while the blocked key is retried again and again.
    await eventually(async () => {
      expect(handled.map((m) => m.value)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
      expect(failures).toBeGreaterThanOrEqual(5);
    }, 20_000);
    const blockedOffset = (await firstOffsetOf(topic, 'first')).offset;
    // Retries keep coming while nothing new arrives on the partition.
    const seen = failures;
    await eventually(async () => expect(failures).toBeGreaterThan(seen + 3), 10_000);
    await first.stop();

    const second: EventMessage[] = [];
    subscriptions.push(await bus.subscribe({ groupId: group, topics: [topic], handler: async (m) => void second.push(m) }));
    await eventually(async () => expect(second.filter((m) => m.key === 'blocked').map((m) => m.value)).toEqual(['first', 'second']), 20_000);
    // Redelivered from the blocked message on: nothing before it, everything after it.
    expect(second[0]).toMatchObject({ key: 'blocked', value: 'first', offset: blockedOffset });
    expect(second).toHaveLength(22);
  });

  it('takes at most `window` messages past an unfinished one; the rest comes once it is done', async () => {
    const windowed = new KafkaEventBus({ brokers: realBackends.kafkaBrokers, clientId: 'keyed-window', partitions: 1, window: 4 });
    let outage = true;
    let failures = 0;
    const handled: string[] = [];
    try {
      subscriptions.push(
        await windowed.subscribe({
          groupId: uniquePrefix('keyed-window'),
          topics: [topic],
          fromBeginning: true,
          backoff: { initialDelayMs: 20, maxDelayMs: 100, jitter: 0 },
          handler: async (m) => {
            if (m.key === 'blocked' && outage) {
              failures += 1;
              throw new BackendUnavailableError('redis', 'connection refused');
            }
            handled.push(m.value);
          },
        }),
      );
      await windowed.publish(topic, [{ key: 'blocked', value: 'first' }, ...Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `m${i}` }))]);
      // The blocked message and the three after it fill the window; retry after retry, nothing more is taken.
      await eventually(async () => expect(handled).toEqual(['m0', 'm1', 'm2']), 20_000);
      const seen = failures;
      await eventually(async () => expect(failures).toBeGreaterThan(seen + 5), 20_000);
      expect(handled).toEqual(['m0', 'm1', 'm2']);
      outage = false;
      await eventually(async () => expect(handled).toHaveLength(11), 20_000);
      expect(handled.slice(0, 4)).toEqual(['m0', 'm1', 'm2', 'first']);
      expect(handled.slice(4).sort()).toEqual(Array.from({ length: 7 }, (_, i) => `m${i + 3}`));
    } finally {
      await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
      await windowed.close();
    }
  });
});

/** Reads the topic from the start with a group of its own and returns the message with that value. */
async function firstOffsetOf(topic: string, value: string): Promise<EventMessage> {
  const reader = newBus();
  const seen: EventMessage[] = [];
  const subscription = await reader.subscribe({ groupId: uniquePrefix('reader'), topics: [topic], fromBeginning: true, handler: async (m) => void seen.push(m) });
  try {
    await eventually(async () => expect(seen.find((m) => m.value === value)).toBeDefined(), 20_000);
    return seen.find((m) => m.value === value)!;
  } finally {
    await subscription.stop();
    await reader.close();
  }
}
