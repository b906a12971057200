/**
 * A commit kafkajs keeps retrying (its coordinator broker down: about 30 s of retries) never holds
 * up a rejoin for long: the batch that meets the rebalance commits what it settled and returns
 * within COMMIT_TIMEOUT_MS, so kafkajs rejoins and the member's partitions are consumed again. It
 * used to wait behind that commit, which stalled the saga orchestrator's replies after the full
 * cluster outage of the chaos test. Driven here with a kafkajs consumer whose commit never answers.
 */
import type { EachBatchPayload } from 'kafkajs';
import { COMMIT_INTERVAL_MS, COMMIT_TIMEOUT_MS, KafkajsConsumers } from '@trellis/kit/internal/events/kafka/kafkajs/consumer';
import { namespaced } from '@trellis/kit/internal/events/kafka/names';
import { fakeKafkajsConsumer } from '../../../../../support/fakeKafkajsConsumer';

/** A kafkajs consumer whose commit kafkajs keeps retrying, against a coordinator that is gone: no answer for as long as this test runs. */
function hangingCommitConsumer() {
  const fake = fakeKafkajsConsumer();
  fake.consumer.commitOffsets = () => {
    fake.consumer.commitCalls += 1;
    return new Promise<void>(() => undefined);
  };
  return fake;
}

function batchOf(offset: number, heartbeat: () => Promise<void>, committed: unknown[]): EachBatchPayload {
  return {
    batch: { topic: 't', partition: 0, messages: [{ offset: String(offset), key: Buffer.from(`k${offset}`), value: Buffer.from('v'), headers: {}, timestamp: '0' }] },
    resolveOffset: () => undefined,
    heartbeat,
    pause: () => () => undefined,
    isRunning: () => true,
    isStale: () => false,
    commitOffsetsIfNecessary: async (offsets?: unknown) => void committed.push(offsets),
  } as unknown as EachBatchPayload;
}

afterEach(() => jest.useRealTimers());

it('returns from the batch that meets a rebalance within COMMIT_TIMEOUT_MS while a commit hangs in kafkajs', async () => {
  jest.useFakeTimers();
  const { consumer, kafka } = hangingCommitConsumer();
  const handled: string[] = [];
  const consumers = new KafkajsConsumers(kafka, namespaced(), { brokers: ['unused:9092'] }, async () => undefined);
  const subscribing = consumers.subscribe({ groupId: 'g', topics: ['t'], handler: async (message) => void handled.push(message.offset) });
  await jest.advanceTimersByTimeAsync(10);
  await subscribing;

  // Offset 0 is handled; the next tick's commit of it goes to kafkajs and never comes back.
  const committed: unknown[] = [];
  await consumer.eachBatch!(batchOf(0, async () => undefined, committed));
  expect(handled).toEqual(['0']);
  await jest.advanceTimersByTimeAsync(COMMIT_INTERVAL_MS);
  expect(consumer.commitCalls).toBe(1);

  // The group rebalances while offset 1 is handled: the heartbeat says so.
  const rebalancing = Object.assign(new Error('The group is rebalancing'), { type: 'REBALANCE_IN_PROGRESS' });
  let outcome: unknown = 'pending';
  void consumer.eachBatch!(batchOf(1, async () => Promise.reject(rebalancing), committed)).then(
    () => (outcome = 'returned'),
    (error: unknown) => (outcome = error),
  );
  await jest.advanceTimersByTimeAsync(COMMIT_TIMEOUT_MS + 100);
  expect(handled).toEqual(['0', '1']);
  // It hands the rebalance back to kafkajs (which rejoins), after committing what it settled.
  expect(outcome).toBe(rebalancing);
  expect(committed).toEqual([{ topics: [{ topic: 't', partitions: [{ partition: 0, offset: '2' }] }] }]);
  // No second kafkajs commit was started while the first one still retries.
  expect(consumer.commitCalls).toBe(1);
});

it('joins the group again when its commits, retried by kafkajs, keep reaching a broker that is no longer the coordinator', async () => {
  jest.useFakeTimers();
  const { consumer, kafka } = hangingCommitConsumer();
  // What kafkajs rejects with once its retries are spent: the broker's answer as the cause.
  const notCoordinator = Object.assign(new Error('This is not the correct coordinator for this group'), { type: 'NOT_COORDINATOR_FOR_GROUP' });
  consumer.commitOffsets = async () => {
    consumer.commitCalls += 1;
    throw Object.assign(new Error('retries exceeded'), { name: 'KafkaJSNumberOfRetriesExceeded', cause: notCoordinator });
  };
  const consumers = new KafkajsConsumers(kafka, namespaced(), { brokers: ['unused:9092'] }, async () => undefined);
  const subscribing = consumers.subscribe({ groupId: 'g', topics: ['t'], handler: async () => undefined });
  await jest.advanceTimersByTimeAsync(10);
  await subscribing;
  expect([consumer.runs, consumer.stops]).toEqual([1, 0]);

  await consumer.eachBatch!(batchOf(0, async () => undefined, []));
  await jest.advanceTimersByTimeAsync(COMMIT_INTERVAL_MS);
  expect(consumer.commitCalls).toBe(1);
  await jest.advanceTimersByTimeAsync(10);
  // Stopped and run again: kafkajs finds the coordinator at the new join.
  expect([consumer.runs, consumer.stops]).toEqual([2, 1]);
});

it('does not rejoin on a commit that failed for another reason', async () => {
  jest.useFakeTimers();
  const { consumer, kafka } = hangingCommitConsumer();
  consumer.commitOffsets = async () => {
    consumer.commitCalls += 1;
    throw Object.assign(new Error('retries exceeded'), { cause: Object.assign(new Error('Connection error'), { type: 'ECONNREFUSED' }) });
  };
  const consumers = new KafkajsConsumers(kafka, namespaced(), { brokers: ['unused:9092'] }, async () => undefined);
  const subscribing = consumers.subscribe({ groupId: 'g', topics: ['t'], handler: async () => undefined });
  await jest.advanceTimersByTimeAsync(10);
  await subscribing;
  await consumer.eachBatch!(batchOf(0, async () => undefined, []));
  await jest.advanceTimersByTimeAsync(COMMIT_INTERVAL_MS + 10);
  expect(consumer.commitCalls).toBe(1);
  expect([consumer.runs, consumer.stops]).toEqual([1, 0]);
});

