/**
 * A scripted kafkajs consumer for the adapter's unit tests (`KafkajsConsumers`): it joins its group
 * at once on every `run`, hands the test the `eachBatch` kafkajs would call, crashes when told to,
 * and counts runs, stops, disconnects and commits. `commitOffsets` resolves at once unless a test
 * replaces it (a commit kafkajs keeps retrying, one that fails with a given cause).
 */
import { EventEmitter } from 'node:events';
import type { EachBatchPayload, Kafka } from 'kafkajs';

const EVENTS = { CRASH: 'consumer.crash', GROUP_JOIN: 'consumer.group_join', REBALANCING: 'consumer.rebalancing' };

export interface FakeKafkajsConsumer {
  eachBatch: undefined | ((payload: EachBatchPayload) => Promise<void>);
  runs: number;
  stops: number;
  disconnects: number;
  commitCalls: number;
  commitOffsets: (offsets: unknown) => Promise<void>;
  /** kafkajs's crash event: `restart` says whether kafkajs restarts the consumer itself. */
  crash(restart: boolean): void;
}

export function fakeKafkajsConsumer(): { consumer: FakeKafkajsConsumer; kafka: Kafka } {
  const emitter = new EventEmitter();
  const consumer = {
    eachBatch: undefined as FakeKafkajsConsumer['eachBatch'],
    runs: 0,
    stops: 0,
    disconnects: 0,
    commitCalls: 0,
    events: EVENTS,
    on: (name: string, listener: (event: unknown) => void) => {
      emitter.on(name, listener);
      return () => emitter.off(name, listener);
    },
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async ({ eachBatch }: { eachBatch?: (payload: EachBatchPayload) => Promise<void> }) => {
      consumer.runs += 1;
      consumer.eachBatch = eachBatch;
      setImmediate(() => emitter.emit(EVENTS.GROUP_JOIN, { payload: {} }));
    },
    crash: (restart: boolean) => void emitter.emit(EVENTS.CRASH, { payload: { error: new Error('Failed to find group coordinator'), restart } }),
    pause: () => undefined,
    commitOffsets: async (_offsets: unknown): Promise<void> => void (consumer.commitCalls += 1),
    stop: async () => void (consumer.stops += 1),
    disconnect: async () => void (consumer.disconnects += 1),
  };
  return { consumer, kafka: { consumer: () => consumer } as unknown as Kafka };
}
