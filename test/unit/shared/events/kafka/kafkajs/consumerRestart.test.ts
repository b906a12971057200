/**
 * kafkajs restarts a crashed consumer only after errors it deems retriable; the adapter runs it
 * again after any other crash, with backoff, and never once it was stopped. kafkajs's side of
 * it (a controlled broker shutdown) is exercised on a real broker in
 * test/integration/events/brokerRestart.test.ts and test/integration/saga/faults.test.ts; this
 * pins the rule with a consumer that crashes on command.
 */
import { KafkajsConsumers } from '@trellis/kit/internal/events/kafka/kafkajs/consumer';
import { namespaced } from '@trellis/kit/internal/events/kafka/names';
import { fakeKafkajsConsumer } from '../../../../../support/fakeKafkajsConsumer';

afterEach(() => jest.useRealTimers());

it('runs a consumer again after a crash kafkajs gives up on, not after one it restarts itself, and not once stopped', async () => {
  jest.useFakeTimers();
  const { consumer, kafka } = fakeKafkajsConsumer();
  const consumers = new KafkajsConsumers(kafka, namespaced(), { brokers: ['unused:9092'] }, async () => undefined);
  const subscribing = consumers.subscribe({ groupId: 'g', topics: ['t'], handler: async () => undefined });
  await jest.advanceTimersByTimeAsync(10);
  const subscription = await subscribing;
  expect(consumer.runs).toBe(1);

  // The first restart waits at most 600 ms (500 ms backoff, 20% jitter).
  consumer.crash(false);
  await jest.advanceTimersByTimeAsync(600);
  expect(consumer.runs).toBe(2);

  // kafkajs restarts this one itself: a run here would be a second consumer loop.
  consumer.crash(true);
  await jest.advanceTimersByTimeAsync(60_000);
  expect(consumer.runs).toBe(2);

  await subscription.stop();
  expect(consumer.disconnects).toBe(1);
  consumer.crash(false);
  await jest.advanceTimersByTimeAsync(60_000);
  expect(consumer.runs).toBe(2);
});
