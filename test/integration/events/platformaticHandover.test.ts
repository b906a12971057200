/**
 * @platformatic/kafka rejoins a rebalancing group on its own; the bus makes every join wait until
 * no handler of the member runs and its settled offsets are committed. So while a second member
 * joins, a message in hand on the first is neither handled on the second at the same time nor
 * handled again there, and every key keeps its order.
 */
import { createKafkaEventBus, type EventBus, type Subscription } from '@trellis/kit/internal/events';
import { eventually } from '../../support/graphql';
import { realBackends, uniquePrefix } from '../../support/backends';

describe('platformatic Kafka bus: a member joining while a handler runs', () => {
  const buses: EventBus[] = [];
  const subscriptions: Subscription[] = [];
  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });

  it('hands a partition over only after the handler in hand ended, without handling it twice', async () => {
    const make = () => {
      const bus = createKafkaEventBus({ client: 'platformatic', brokers: realBackends.kafkaBrokers, clientId: 'handover', partitions: 1 });
      buses.push(bus);
      return bus;
    };
    const [first, second] = [make(), make()];
    const topic = uniquePrefix('handover');
    const group = uniquePrefix('group');
    await first.ensureTopics([topic]);
    const timeline: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const handler = (member: string) => async (message: { value: string }) => {
      timeline.push(`${member} start ${message.value}`);
      if (message.value === 'm0') await held;
      timeline.push(`${member} end ${message.value}`);
    };
    subscriptions.push(await first.subscribe({ groupId: group, topics: [topic], fromBeginning: true, handler: handler('A') }));
    await first.publish(topic, { key: 'k', value: 'm0' });
    await eventually(async () => expect(timeline).toEqual(['A start m0']), 20_000);

    // The second member's join needs the first to rejoin, which waits for m0's handler.
    const joining = second.subscribe({ groupId: group, topics: [topic], fromBeginning: true, handler: handler('B') }).then((s) => void subscriptions.push(s));
    setTimeout(release, 2000);
    await joining;
    await first.publish(topic, Array.from({ length: 5 }, (_, i) => ({ key: 'k', value: `m${i + 1}` })));

    await eventually(async () => expect(timeline.filter((entry) => entry.includes(' end '))).toHaveLength(6), 30_000);
    // m0 ended on A before anything started anywhere else, and nothing ran twice or out of order.
    expect(timeline.slice(0, 2)).toEqual(['A start m0', 'A end m0']);
    const ends = timeline.filter((entry) => entry.includes(' end ')).map((entry) => entry.split(' ')[2]);
    expect(ends).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    expect(timeline).toHaveLength(12);
  }, 90_000);
});
