/**
 * Publishes ready at once share produce requests on the real broker: many concurrent callers cost
 * a few requests (counted by `trellis_kafka_requests_total{api="Produce"}`), every caller is acknowledged,
 * every message arrives, each key in the order its publishes were called, across topics too.
 */
import { Registry } from 'prom-client';
import { KafkaEventBus, type EventMessage } from '@trellis/kit/internal/events';
import { eventually } from '../../support/graphql';
import { realBackends, uniquePrefix } from '../../support/backends';

/** A counter's value (of the series with these labels); throws when it is not there, never reads as 0. */
async function counter(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((entry) => entry.name === name);
  const series = metric?.values.find((value) => Object.entries(labels).every(([label, wanted]) => value.labels[label] === wanted));
  if (!series) throw new Error(`${name} ${JSON.stringify(labels)} is not there`);
  return series.value;
}
const produceRequests = (registry: Registry) => counter(registry, 'trellis_kafka_requests_total', { api: 'Produce' });

it('sends concurrent publishes to two topics in a few requests, in publish order per key', async () => {
  const registry = new Registry();
  const bus = new KafkaEventBus({ brokers: realBackends.kafkaBrokers, clientId: 'coalescing', registry, lingerMs: 5 });
  const commands = uniquePrefix('commands');
  const replies = uniquePrefix('replies');
  try {
    await bus.ensureTopics([commands, replies]);
    const received: EventMessage[] = [];
    await bus.subscribe({ groupId: uniquePrefix('group'), topics: [commands, replies], fromBeginning: true, handler: async (m) => void received.push(m) });
    // Connects the producer, so the count below is only the burst's.
    await bus.publish(commands, { key: 'warm', value: 'warm' });
    const requestsBefore = await produceRequests(registry);

    const keys = ['saga-a', 'saga-b', 'saga-c', 'saga-d'];
    const calls = Array.from({ length: 200 }, (_, i) => ({ topic: i % 2 === 0 ? commands : replies, key: keys[i % keys.length], value: String(i) }));
    await Promise.all(calls.map(({ topic, key, value }) => bus.publish(topic, { key, value })));

    const requests = (await produceRequests(registry)) - requestsBefore;
    expect(requests).toBeGreaterThan(0);
    expect(requests).toBeLessThanOrEqual(5);
    expect(await counter(registry, 'trellis_kafka_produced_messages_total')).toBe(201);

    await eventually(async () => expect(received.filter((m) => m.key !== 'warm')).toHaveLength(200), 30_000, 100);
    for (const key of keys) {
      for (const topic of [commands, replies]) {
        const expected = calls.filter((call) => call.key === key && call.topic === topic).map((call) => call.value);
        expect(received.filter((m) => m.key === key && m.topic === topic).map((m) => m.value)).toEqual(expected);
      }
    }
  } finally {
    await bus.close();
  }
});

it('close() sends what is still lingering before it disconnects', async () => {
  const bus = new KafkaEventBus({ brokers: realBackends.kafkaBrokers, clientId: 'coalescing-close', lingerMs: 60_000 });
  const topic = uniquePrefix('close');
  await bus.ensureTopics([topic]);
  const published = bus.publish(topic, { key: 'k', value: 'last words' });
  await bus.close();
  await expect(published).resolves.toBeUndefined();

  const reader = new KafkaEventBus({ brokers: realBackends.kafkaBrokers, clientId: 'coalescing-reader' });
  try {
    const received: string[] = [];
    await reader.subscribe({ groupId: uniquePrefix('group'), topics: [topic], fromBeginning: true, handler: async (m) => void received.push(m.value) });
    await eventually(async () => expect(received).toEqual(['last words']), 30_000, 100);
  } finally {
    await reader.close();
  }
});
