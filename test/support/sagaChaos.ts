/**
 * Tools of the saga chaos test: a seeded random source (a failing run can be replayed), a
 * duplicator that delivers every saga command twice, a stock sampler, and a dead-letter check
 * that cannot pass on silence.
 */
import { randomUUID } from 'node:crypto';
import type { EventBus, KafkaEventBusOptions, Subscription } from '@trellis/kit/internal/events';
import { kafkajsClient } from '@trellis/kit/internal/events/kafka/kafkajs/client';
import { DEAD_LETTER_SUFFIX } from '@trellis/kit/internal/events';
import type { Stock } from '../../subgraphs/catalog/inventory';

export const DUPLICATE_HEADER = 'x-chaos-duplicate';

export interface CommandDuplicator {
  /** Commands seen once and published a second time. */
  duplicated: number;
  stop(): Promise<void>;
}

/** Reads the command topics in its own group and publishes each command once more, marked so it is not copied again. */
export async function duplicateCommands(bus: EventBus, topics: string[]): Promise<CommandDuplicator> {
  const duplicator = { duplicated: 0, subscription: undefined as Subscription | undefined };
  duplicator.subscription = await bus.subscribe({
    groupId: 'chaos-duplicator',
    topics,
    fromBeginning: true,
    handler: async (message) => {
      if (message.headers[DUPLICATE_HEADER]) return;
      await bus.publish(message.topic, { key: message.key ?? undefined, value: message.value, headers: { ...message.headers, [DUPLICATE_HEADER]: '1' } });
      duplicator.duplicated += 1;
    },
  });
  return {
    get duplicated() {
      return duplicator.duplicated;
    },
    stop: () => duplicator.subscription!.stop(),
  };
}

export interface StockSamples {
  samples: number;
  /** Reads that failed (the state store was down). */
  failedReads: number;
  /** Lowest `available` seen, by product. */
  lowest: Record<string, number>;
  /** Samples where available + reserved differed from the seed's. */
  unbalanced: string[];
  stop(): void;
}

/** Reads every product's stock every `intervalMs` until stopped. */
export function sampleStock(read: (productId: string) => Promise<Stock>, seed: Record<string, Stock>, intervalMs = 200): StockSamples {
  const result: StockSamples = { samples: 0, failedReads: 0, lowest: {}, unbalanced: [], stop: () => clearInterval(timer) };
  const timer = setInterval(() => {
    for (const [productId, initial] of Object.entries(seed)) {
      read(productId).then(
        (stock) => {
          result.samples += 1;
          result.lowest[productId] = Math.min(result.lowest[productId] ?? Infinity, stock.available);
          if (stock.available + stock.reserved !== initial.available + initial.reserved) result.unbalanced.push(`${productId}: ${JSON.stringify(stock)}`);
        },
        () => (result.failedReads += 1),
      );
    }
  }, intervalMs);
  return result;
}

/**
 * Everything in `<topic>.dlq` of each topic, read from the beginning by a fresh group. A sentinel
 * goes first into every DLQ, and the reader must have read each partition up to its end offset
 * (which includes the sentinels) before the answer counts, so a reader that saw nothing is a failure, not a pass.
 */
export async function deadLetters(bus: EventBus, options: { kafka: KafkaEventBusOptions; namespace: string; topics: string[]; timeoutMs?: number }): Promise<Record<string, string[]>> {
  const dlqs = options.topics.map((topic) => topic + DEAD_LETTER_SUFFIX);
  const sentinel = `chaos-sentinel-${randomUUID()}`;
  await bus.ensureTopics(options.topics);
  // Several keys, so most partitions hold a sentinel; the end offsets below cover every partition anyway.
  for (const dlq of dlqs) await bus.publish(dlq, Array.from({ length: 6 }, (_, i) => ({ key: `${sentinel}-${i}`, value: sentinel })));

  const admin = kafkajsClient({ ...options.kafka, clientId: 'chaos-dlq-check' }).admin();
  await admin.connect();
  const ends = new Map<string, Map<number, number>>();
  try {
    for (const dlq of dlqs) {
      const offsets = await admin.fetchTopicOffsets(options.namespace + dlq);
      ends.set(dlq, new Map(offsets.map(({ partition, high }) => [partition, Number(high)])));
    }
  } finally {
    await admin.disconnect();
  }

  const found: Record<string, string[]> = Object.fromEntries(dlqs.map((dlq) => [dlq, []]));
  const readUpTo = new Map<string, number>();
  let sentinelsSeen = 0;
  const subscription = await bus.subscribe({
    groupId: `chaos-dlq-check-${randomUUID().slice(0, 8)}`,
    topics: dlqs,
    fromBeginning: true,
    handler: async (message) => {
      // Handlers of different keys run at once, so a message may finish after a later one: keep the highest.
      const slot = `${message.topic}/${message.partition}`;
      readUpTo.set(slot, Math.max(readUpTo.get(slot) ?? 0, Number(message.offset) + 1));
      if (message.value === sentinel) sentinelsSeen += 1;
      else found[message.topic].push(`${message.headers['x-dlq-error'] ?? '?'}: ${message.value}`);
    },
  });
  try {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    const caughtUp = () => [...ends].every(([dlq, partitions]) => [...partitions].every(([partition, end]) => (readUpTo.get(`${dlq}/${partition}`) ?? 0) >= end));
    while (!caughtUp()) {
      if (Date.now() > deadline) throw new Error(`dead-letter reader did not reach the end offsets ${JSON.stringify([...ends].map(([t, p]) => [t, [...p]]))}; read ${JSON.stringify([...readUpTo])}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await subscription.stop();
  }
  if (sentinelsSeen !== dlqs.length * 6) throw new Error(`expected ${dlqs.length * 6} sentinels, read ${sentinelsSeen}`);
  return found;
}

/**
 * Resolves once each consumer group has committed every partition of its topics up to the end
 * (nothing left to handle), polling the broker's offsets; rejects after `timeoutMs` naming the lag.
 */
export async function consumersCaughtUp(options: { kafka: KafkaEventBusOptions; namespace: string; groups: Array<{ groupId: string; topic: string }>; timeoutMs?: number }): Promise<void> {
  const admin = kafkajsClient({ ...options.kafka, clientId: 'chaos-lag-check' }).admin();
  await admin.connect();
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  try {
    for (;;) {
      const lagging: string[] = [];
      for (const { groupId, topic } of options.groups) {
        const ends = await admin.fetchTopicOffsets(options.namespace + topic);
        const [committed] = await admin.fetchOffsets({ groupId: options.namespace + groupId, topics: [options.namespace + topic] });
        for (const { partition, high } of ends) {
          const at = Number(committed?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
          if (Number(high) > 0 && at < Number(high)) lagging.push(`${groupId} ${topic}/${partition} at ${at} of ${high}`);
        }
      }
      if (lagging.length === 0) return;
      if (Date.now() > deadline) throw new Error(`consumers still behind: ${lagging.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await admin.disconnect();
  }
}

