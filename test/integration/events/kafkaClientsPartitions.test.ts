/** Both Kafka clients put a key on the same partition (the Java client's murmur2), so a platform can switch clients on existing topics and keep each key's order. */
import { createKafkaEventBus, KAFKA_CLIENTS, type EventMessage, type Subscription } from '@trellis/kit/internal/events';
import { eventually } from '../../support/graphql';
import { realBackends, uniquePrefix } from '../../support/backends';

it('puts each key on the same partition whichever client published it', async () => {
  const buses = KAFKA_CLIENTS.map((client) => createKafkaEventBus({ client, brokers: realBackends.kafkaBrokers, clientId: `partitions-${client}` }));
  const topic = uniquePrefix('partitions');
  const received: EventMessage[] = [];
  let subscription: Subscription | undefined;
  try {
    await buses[0].ensureTopics([topic]);
    const keys = Array.from({ length: 24 }, (_, i) => `saga-${i}`);
    for (const [index, bus] of buses.entries()) await bus.publish(topic, keys.map((key) => ({ key, value: KAFKA_CLIENTS[index] })));
    subscription = await buses[0].subscribe({ groupId: uniquePrefix('group'), topics: [topic], fromBeginning: true, handler: async (m) => void received.push(m) });
    await eventually(async () => expect(received).toHaveLength(keys.length * KAFKA_CLIENTS.length), 30_000);
    const partitionsOf = (key: string) => new Set(received.filter((m) => m.key === key).map((m) => m.partition));
    expect(keys.filter((key) => partitionsOf(key).size !== 1)).toEqual([]);
    // Not all on one partition: the keys are really spread, so the check above means something.
    expect(new Set(received.map((m) => m.partition)).size).toBeGreaterThan(1);
  } finally {
    await subscription?.stop();
    await Promise.all(buses.map((bus) => bus.close()));
  }
});
