/**
 * What the Redis topologies add to the StateStore contract: on Cluster a write over several hash
 * slots is refused by name before Redis sees it, and sagas (orchestrator and participant) run with
 * every script in one slot, and are listed for operators from their indexes; on a Sentinel set, REDIS_MIN_REPLICAS_ACK makes a write wait for its
 * replicas, and a write they do not confirm is an error the caller sees and a metric counts.
 */
import { Registry } from 'prom-client';
import { InMemoryEventBus } from '@trellis/kit/internal/events';
import { createLogger } from '@trellis/kit/internal/logging';
import { RedisStateStore, REPLICA_ACK_TIMEOUTS_METRIC } from '@trellis/kit/internal/state';
import { handleSagaCommands, sagaHashTag, SagaLog, SagaOrchestrator, type SagaDefinition, type SagaHandler } from '@trellis/kit/internal/saga';
import { eventually } from '../../support/graphql';
import { uniquePrefix } from '../../support/backends';
import { privateCluster, privateSentinelSet, type PrivateCluster, type PrivateSentinelSet } from '../../support/privateRedisTopologies';

const logger = createLogger({ service: 'test', level: 'silent' });

describe('state store on a Redis Cluster', () => {
  let cluster: PrivateCluster;
  let store: RedisStateStore;
  beforeAll(async () => {
    cluster = await privateCluster();
  }, 90_000);
  beforeEach(() => {
    store = new RedisStateStore({ topology: cluster.topology, keyPrefix: uniquePrefix('cluster') + ':' });
  });
  afterEach(() => store.close());
  afterAll(() => cluster?.stop());

  it('refuses an atomic write over two hash slots, naming the keys, and writes nothing', async () => {
    const error = await store.compareAndSetMany([{ key: 'stock:a', expectedVersion: 0, value: '1' }], [{ key: 'dedupe:b', expectedVersion: 0 }]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CROSS_SLOT', retriable: false });
    expect((error as Error).message).toMatch(/^compareAndSetMany on Redis Cluster needs its keys in one hash slot \(give them one \{hash tag\}\); got .*stock:a \(slot \d+\), .*dedupe:b \(slot \d+\)$/);
    expect(await store.getVersioned('stock:a')).toBeNull();
    // A due index in another slot than its record is refused the same way.
    await expect(store.compareAndSetMany([{ key: '{x}record', expectedVersion: 0, value: '1', due: { index: 'due', at: 1 } }])).rejects.toMatchObject({ code: 'CROSS_SLOT' });
  });

  it('lists keys on every primary', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `listed:${i}`);
    await Promise.all(keys.map((key) => store.set(key, 'v')));
    expect((await store.keys('listed:')).sort()).toEqual([...keys].sort());
  });

  it('runs a saga: records, due shards, recent indexes, idempotency keys and dedupe records each written in one slot', async () => {
    const bus = new InMemoryEventBus();
    const definition: SagaDefinition<{ n: number }> = {
      name: 'tally',
      steps: [{ name: 'count', participant: 'counter', command: 'count', payload: (input) => input, timeoutMs: 5000, retry: { maxAttempts: 1, backoffMs: 10, maxBackoffMs: 10 } }],
    };
    // The participant keeps its own record of the saga under the saga's hash tag, so it commits with the dedupe record.
    const count: SagaHandler = (async (payload: { n: number }, { command, read }) => {
      const key = `counted:${sagaHashTag(command.sagaId)}`;
      const existing = await read(key);
      return { writes: [{ key, expectedVersion: existing?.version ?? 0, value: String(payload.n) }], result: { n: payload.n } };
    }) as SagaHandler;
    const orchestrator = new SagaOrchestrator({ state: store, events: bus, logger, definitions: [definition], sweepIntervalMs: 50 });
    const participant = await handleSagaCommands('counter', { count }, { events: bus, state: store, logger });
    await orchestrator.start();
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => orchestrator.startSaga('tally', { n: i }, { idempotency: { scope: 'u', key: `k${i}`, request: { n: i } } }).then((saga) => saga.id)));
    await eventually(async () => expect((await Promise.all(ids.map((id) => orchestrator.get(id)))).map((saga) => saga?.state)).toEqual(ids.map(() => 'COMPLETED')), 20_000);
    expect((await orchestrator.startSaga('tally', { n: 3 }, { idempotency: { scope: 'u', key: 'k3', request: { n: 3 } } })).id).toBe(ids[3]);
    expect((await store.getVersioned(`counted:${sagaHashTag(ids[5])}`))?.value).toBe('5');
    // The write that ended each saga filed it in its shard's recent index, in the record's slot.
    const overview = await new SagaLog({ state: store }).overview({ finished: 20 });
    expect(overview.finished.map((saga) => saga.id).sort()).toEqual([...ids].sort());
    expect(overview).toMatchObject({ inFlight: [], inFlightTotal: 0, finishedKept: 20 });
    await orchestrator.stop();
    await participant.stop();
    await bus.close();
  });
});

describe('state store on a Sentinel set with REDIS_MIN_REPLICAS_ACK', () => {
  let set: PrivateSentinelSet;
  beforeAll(async () => {
    set = await privateSentinelSet();
  }, 90_000);
  afterAll(() => set?.stop());

  it('resolves a write once its one replica has it', async () => {
    const store = new RedisStateStore({ topology: set.topology, keyPrefix: uniquePrefix('ack') + ':', replicaAck: { minReplicas: 1, timeoutMs: 500 } });
    expect(await store.compareAndSetMany([{ key: '{a}x', expectedVersion: 0, value: '1' }, { key: '{a}y', expectedVersion: 0, value: '2' }])).toEqual([1, 1]);
    expect(await store.setIfAbsent('once', 'first')).toBe(true);
    expect(await store.setIfAbsent('once', 'again')).toBe(false);
    await store.delete('once');
    expect(await store.get('once')).toBeNull();
    // A conflict is still a conflict, not an error.
    expect(await store.compareAndSet('{a}x', 0, 'stale')).toBeNull();
    await store.close();
  });

  it('fails a write that fewer replicas than asked confirm in time, and counts it', async () => {
    const registry = new Registry();
    const store = new RedisStateStore({ topology: set.topology, keyPrefix: uniquePrefix('ack') + ':', replicaAck: { minReplicas: 2, timeoutMs: 200 }, registry });
    const error = await store.compareAndSet('record', 0, 'v').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'BACKEND_TIMEOUT',
      retriable: true,
      message: 'redis: 1 of 2 replicas confirmed the write within 200 ms (REDIS_MIN_REPLICAS_ACK); a failover now could lose it',
    });
    await expect(store.set('plain', 'v')).rejects.toMatchObject({ code: 'BACKEND_TIMEOUT' });
    const counted = (await registry.getSingleMetric(REPLICA_ACK_TIMEOUTS_METRIC)!.get()).values;
    expect(counted).toEqual([expect.objectContaining({ value: 2 })]);
    await store.close();
  });
});
