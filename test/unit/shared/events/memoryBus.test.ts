/**
 * The embedded bus behaves like a keyed Kafka consumer: within one partition, different keys are
 * handled at once and one key strictly in order; a member leaving hands its unfinished messages to
 * the next; a retry holds back only its key. (The contract every bus shares is in
 * test/integration/contracts/eventBus.test.ts.)
 */
import { InMemoryEventBus, type EventMessage } from '@trellis/kit/internal/events';
import { BackendUnavailableError } from '@trellis/kit/internal/errors';
import { eventually } from '../../../support/graphql';

/** A promise the test settles when it wants. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('InMemoryEventBus', () => {
  it('handles different keys of one partition concurrently and each key in order', async () => {
    const bus = new InMemoryEventBus({ partitions: 1 });
    const gates = new Map([['a', gate()]]);
    const started: string[] = [];
    const finished: string[] = [];
    await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async (message) => {
        started.push(message.value);
        await gates.get(message.value)?.opened;
        finished.push(message.value);
      },
    });
    await bus.publish('t', [
      { key: 'A', value: 'a' },
      { key: 'A', value: 'a2' },
      { key: 'B', value: 'b' },
      { key: 'B', value: 'b2' },
    ]);
    // B's messages pass A's stuck one; A's second waits for its first.
    await eventually(async () => expect(finished).toEqual(['b', 'b2']));
    expect(started).toEqual(['a', 'b', 'b2']);
    gates.get('a')!.open();
    await eventually(async () => expect(finished).toEqual(['b', 'b2', 'a', 'a2']));
    await bus.close();
  });

  it('hands out at most `window` messages past the committed offset', async () => {
    const bus = new InMemoryEventBus({ partitions: 1, window: 3 });
    const first = gate();
    const started: string[] = [];
    await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async (message) => {
        started.push(message.value);
        if (message.value === 'k0') await first.opened;
      },
    });
    await bus.publish('t', Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: `k${i}` })));
    await eventually(async () => expect(started).toEqual(['k0', 'k1', 'k2']));
    first.open();
    await eventually(async () => expect(started).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5']));
    await bus.close();
  });

  it('a retriable failure holds back only its key; the key then goes on in order', async () => {
    const bus = new InMemoryEventBus({ partitions: 1 });
    let outage = true;
    const handled: string[] = [];
    await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      backoff: { initialDelayMs: 5, maxDelayMs: 20, jitter: 0 },
      handler: async (message) => {
        if (message.key === 'A' && outage) throw new BackendUnavailableError('redis', 'down');
        handled.push(message.value);
      },
    });
    await bus.publish('t', [
      { key: 'A', value: 'a1' },
      { key: 'B', value: 'b1' },
      { key: 'A', value: 'a2' },
      { key: 'B', value: 'b2' },
    ]);
    await eventually(async () => expect(handled).toEqual(['b1', 'b2']));
    outage = false;
    await eventually(async () => expect(handled).toEqual(['b1', 'b2', 'a1', 'a2']));
    await bus.close();
  });

  it('gives what a leaving member was still handling to the member that stays, from the committed offset', async () => {
    const bus = new InMemoryEventBus({ partitions: 1 });
    const stuck = gate();
    const byLeaver: string[] = [];
    const byStayer: EventMessage[] = [];
    const leaver = await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async (message) => {
        byLeaver.push(message.value);
        if (message.value === 'a1') await stuck.opened;
      },
    });
    await bus.publish('t', [
      { key: 'A', value: 'a1' },
      { key: 'B', value: 'b1' },
      { key: 'A', value: 'a2' },
    ]);
    await eventually(async () => expect(byLeaver).toEqual(['a1', 'b1']));
    // The partition is held by the leaver (one partition, first member); a second member joins, then the leaver goes.
    await bus.subscribe({ groupId: 'g', topics: ['t'], handler: async (message) => void byStayer.push(message) });
    await leaver.stop();
    stuck.open();
    // a1 was never finished by the leaver: the stayer gets it again, then a2; b1 was handled but
    // sits above the committed offset (a1 is below it), so it comes again too, as on Kafka.
    await eventually(async () => expect(byStayer.map((m) => m.value)).toEqual(['a1', 'b1', 'a2']));
    await bus.close();
  });
});
