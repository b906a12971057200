/**
 * A Redis Cluster primary SIGKILLed under the example sagas: the cluster promotes its replica
 * (cluster-node-timeout 2 s), the state store's writes to its slots fail as retriable meanwhile
 * and resume on the promoted replica without a restart, and an order placed across the failover
 * (its start retried while refused as retriable) completes with its stock moved once. Prints what
 * it measured.
 */
import Redis from 'ioredis';
import { BackendUnavailableError, TrellisError } from '@trellis/kit/internal/errors';
import { STOCK_SLOT } from '../../../subgraphs/catalog/inventory';
import { realBackends } from '../../support/backends';
import { privateCluster, type PrivateCluster } from '../../support/privateRedisTopologies';
import { startSagaWorld, type SagaWorld } from '../../support/sagaWorld';

const p4 = { productId: 'p4', quantity: 1, unitPrice: 9.75 };

describe('a Redis Cluster primary failover under sagas', () => {
  let cluster: PrivateCluster;
  let world: SagaWorld;

  beforeAll(async () => {
    cluster = await privateCluster(1);
    world = await startSagaWorld(undefined, { ...realBackends, redisTopology: cluster.topology });
    for (const name of ['catalog', 'payments', 'orders'] as const) await world.startParticipant(name);
    await world.startOrchestrator();
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    await cluster?.stop();
  });

  it("promotes the stock's replica; writes fail retriable meanwhile, then resume, and an order across it completes once", async () => {
    const before = await world.stock('p4');
    expect((await world.settled((await world.placeOrder({ items: [p4] })).id)).state).toBe('COMPLETED');
    const primary = await cluster.primaryOf(STOCK_SLOT);
    // What the primary acknowledged is on its replica before the kill: this test is about the
    // failover, not about what asynchronous replication can lose (REDIS_MIN_REPLICAS_ACK is).
    const direct = new Redis({ host: '127.0.0.1', port: primary, lazyConnect: true });
    await direct.connect();
    expect(await direct.call('WAIT', 1, 5000)).toBe(1);
    direct.disconnect();

    const killedAt = Date.now();
    await cluster.kill(primary);
    // A client retries a start refused as retriable (the saga's shard may be on the killed primary).
    const startAcross = async () => {
      for (;;) {
        try {
          return await world.placeOrder({ items: [p4] });
        } catch (error) {
          if (!(error instanceof TrellisError && error.retriable)) throw error;
        }
      }
    };
    const during = startAcross();
    // A stock write in the slot of the killed primary: it fails, retriable, until the replica serves it.
    const failures: unknown[] = [];
    let resumedAt: number | undefined;
    const probe = `probe:${STOCK_SLOT}`;
    while (resumedAt === undefined && Date.now() - killedAt < 30_000) {
      try {
        await world.state.set(probe, String(Date.now()));
        resumedAt = Date.now();
      } catch (error) {
        failures.push(error);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    const promoted = await cluster.promoted(STOCK_SLOT, primary);
    console.log(`Redis Cluster primary SIGKILLed: writes to its slots resumed on the promoted replica (:${promoted}) after ${resumedAt! - killedAt} ms; ${failures.length} failed meanwhile`);
    expect(resumedAt).toBeDefined();
    expect(failures.filter((error) => !(error instanceof TrellisError && error.retriable))).toEqual([]);
    expect(failures.some((error) => error instanceof BackendUnavailableError || (error as TrellisError).code === 'BACKEND_TIMEOUT')).toBe(true);

    const saga = await world.settled((await during).id, 60_000);
    expect(saga.state).toBe('COMPLETED');
    // Every saga this test started, a start that failed as retriable but was written included: each
    // completed, and the stock moved once for each.
    const last = Number(saga.id.slice(world.namespace.length + 1));
    const started = (await Promise.all(Array.from({ length: last }, (_, k) => world.saga(`${world.namespace}-${k + 1}`)))).filter((record) => record !== null);
    const ended = await Promise.all(started.map((record) => world.settled(record!.id, 60_000)));
    expect(ended.map((record) => record.state)).toEqual(ended.map(() => 'COMPLETED'));
    expect(await world.stock('p4')).toEqual({ available: before.available - ended.length, reserved: before.reserved + ended.length });
  });
});
