/**
 * The kafkajs consumer's rejoin on a real broker. kafkajs keeps sending commits to the coordinator
 * of the last join; when commits come back "not the coordinator" (after its retries), the adapter
 * leaves the group and joins again, which finds the coordinator anew. Here the first commit is made
 * to fail that way (the broker's answer cannot be staged on one broker); everything else is real:
 * the consumer rejoins, goes on consuming, and its commits reach the broker afterwards.
 */
import type { Consumer, Kafka } from 'kafkajs';
import { KafkaEventBus, type Subscription } from '@trellis/kit/internal/events';
import { kafkajsClient } from '@trellis/kit/internal/events/kafka/kafkajs/client';
import { KafkajsConsumers } from '@trellis/kit/internal/events/kafka/kafkajs/consumer';
import { namespaced } from '@trellis/kit/internal/events/kafka/names';
import { eventually } from '../../support/graphql';
import { realBackends, uniquePrefix } from '../../support/backends';

it('joins the group again after a commit answered "not the coordinator", consumes on, and commits', async () => {
  const options = { brokers: realBackends.kafkaBrokers, clientId: 'rejoin', partitions: 1 };
  const real = kafkajsClient(options);
  const bus = new KafkaEventBus(options);
  const topic = uniquePrefix('rejoin');
  const groupId = uniquePrefix('rejoin-g');
  let joins = 0;
  let staleAnswers = 1;
  // The real kafkajs consumer, with its first commit failing as kafkajs fails one after its retries.
  const kafka = {
    consumer: (config: Parameters<Kafka['consumer']>[0]): Consumer => {
      const consumer = real.consumer(config);
      consumer.on(consumer.events.GROUP_JOIN, () => void (joins += 1));
      const commit = consumer.commitOffsets.bind(consumer);
      consumer.commitOffsets = async (offsets) => {
        if (staleAnswers > 0) {
          staleAnswers -= 1;
          const answer = Object.assign(new Error('This is not the correct coordinator for this group'), { type: 'NOT_COORDINATOR_FOR_GROUP' });
          throw Object.assign(new Error(answer.message), { name: 'KafkaJSNumberOfRetriesExceeded', cause: answer });
        }
        return commit(offsets);
      };
      return consumer;
    },
  } as unknown as Kafka;
  const consumers = new KafkajsConsumers(kafka, namespaced(), options, (target, message) => bus.publish(target, message));
  const admin = real.admin();
  let subscription: Subscription | undefined;
  try {
    await bus.ensureTopics([topic]);
    await admin.connect();
    const received = new Set<string>();
    subscription = await consumers.subscribe({ groupId, topics: [topic], fromBeginning: true, handler: async (m) => void received.add(m.value) });
    await bus.publish(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 3}`, value: `a${i}` })));
    await eventually(async () => expect(received.size).toBe(10), 30_000, 100);
    // The first commit fails as a stale coordinator's: the member leaves and joins again.
    await eventually(async () => expect(joins).toBe(2), 30_000, 100);
    await bus.publish(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 3}`, value: `b${i}` })));
    await eventually(async () => expect(received.size).toBe(20), 30_000, 100);
    // And the commits of the new join reach the broker: the group's offset is the log's end.
    await eventually(async () => {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(committed.partitions.map((p) => p.offset)).toEqual(['20']);
    }, 30_000, 250);
    expect(staleAnswers).toBe(0);
  } finally {
    await subscription?.stop();
    await admin.disconnect();
    await bus.close();
  }
}, 120_000);
