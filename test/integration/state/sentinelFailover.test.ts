/**
 * The Sentinel primary SIGKILLed in the middle of saga starts. Without replica acks, starts fail
 * fast during the failover and resume on the promoted replica within seconds. With
 * REDIS_MIN_REPLICAS_ACK=1, no start that was acknowledged is lost; once the promoted primary has
 * no replica left, starts fail (they are not acknowledged) until the old primary is back as its
 * replica. Each run prints what it measured.
 */
import { InMemoryEventBus } from '@trellis/kit/internal/events';
import { createLogger } from '@trellis/kit/internal/logging';
import { RedisStateStore } from '@trellis/kit/internal/state';
import { SagaOrchestrator, type SagaDefinition } from '@trellis/kit/internal/saga';
import { eventually } from '../../support/graphql';
import { privateSentinelSet, type PrivateSentinelSet } from '../../support/privateRedisTopologies';

const logger = createLogger({ service: 'test', level: 'silent' });
const definition: SagaDefinition<{ n: number }> = {
  name: 'order',
  steps: [{ name: 'reserve', participant: 'catalog', command: 'reserve', payload: (input) => input, timeoutMs: 60_000, retry: { maxAttempts: 1, backoffMs: 10, maxBackoffMs: 10 } }],
};

interface Load {
  acknowledged: string[];
  failed: number;
  /** When a start first succeeded after `since`. */
  firstSuccessAfter(since: number): Promise<number>;
  stop(): Promise<void>;
}

/** Four writers starting sagas back to back, as placeOrder under load does; a failed start is counted, not retried. */
function sagaLoad(orchestrator: SagaOrchestrator): Load {
  const acknowledged: string[] = [];
  const successes: number[] = [];
  let failed = 0;
  let running = true;
  let n = 0;
  const writer = async () => {
    while (running) {
      const id = `f-${n++}`;
      try {
        await orchestrator.startSaga('order', { n }, { id });
        acknowledged.push(id);
        successes.push(Date.now());
      } catch {
        failed += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };
  const writers = Array.from({ length: 4 }, writer);
  return {
    acknowledged,
    get failed() {
      return failed;
    },
    firstSuccessAfter: (since) =>
      eventually(async () => {
        const first = successes.find((at) => at > since);
        expect(first).toBeDefined();
        return first as number;
      }, 60_000, 20),
    stop: async () => {
      running = false;
      await Promise.all(writers);
    },
  };
}

async function run(set: PrivateSentinelSet, minReplicas: number) {
  const state = new RedisStateStore({ topology: set.topology, commandTimeoutMs: 2000, replicaAck: { minReplicas, timeoutMs: 500 } });
  const bus = new InMemoryEventBus();
  const orchestrator = new SagaOrchestrator({ state, events: bus, logger, definitions: [definition] });
  const load = sagaLoad(orchestrator);
  await eventually(async () => expect(load.acknowledged.length).toBeGreaterThanOrEqual(200), 30_000);
  const killedAt = Date.now();
  const oldPrimary = await set.killPrimary();
  await set.promoted(oldPrimary);
  const promotedAfterMs = Date.now() - killedAt;
  return { state, bus, orchestrator, load, killedAt, oldPrimary, promotedAfterMs };
}

/** The acknowledged sagas whose record is not in the store. */
async function lost(orchestrator: SagaOrchestrator, ids: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (let i = 0; i < ids.length; i += 200) {
    const batch = ids.slice(i, i + 200);
    const records = await Promise.all(batch.map((id) => orchestrator.get(id)));
    missing.push(...batch.filter((_, j) => records[j] === null));
  }
  return missing;
}

describe('saga starts across a Sentinel failover (SIGKILL of the primary)', () => {
  let set: PrivateSentinelSet | undefined;
  afterEach(async () => {
    await set?.stop();
    set = undefined;
  });

  it('without replica acks: fail fast during the failover, resume on the promoted replica within seconds', async () => {
    set = await privateSentinelSet();
    const { state, bus, load, killedAt, promotedAfterMs, orchestrator } = await run(set, 0);
    const resumedAfterMs = (await load.firstSuccessAfter(killedAt + promotedAfterMs)) - killedAt;
    await eventually(async () => expect(load.acknowledged.length).toBeGreaterThan(400), 30_000);
    await load.stop();
    const missing = await lost(orchestrator, load.acknowledged);
    console.log(`REDIS_MIN_REPLICAS_ACK=0: promoted after ${promotedAfterMs} ms, starts resumed ${resumedAfterMs} ms after the kill; ${load.acknowledged.length} acknowledged, ${load.failed} failed, ${missing.length} acknowledged but lost`);
    expect(resumedAfterMs).toBeLessThan(15_000);
    await state.close();
    await bus.close();
  }, 120_000);

  it('with REDIS_MIN_REPLICAS_ACK=1: no acknowledged start is lost; with no replica left starts fail until one is back', async () => {
    set = await privateSentinelSet();
    const { state, bus, load, killedAt, oldPrimary, promotedAfterMs, orchestrator } = await run(set, 1);
    // The promoted primary has no replica: a start cannot be acknowledged, and is not.
    const failedBefore = load.failed;
    await eventually(async () => expect(load.failed).toBeGreaterThan(failedBefore + 10), 30_000);
    const acknowledgedWithoutReplica = load.acknowledged.length;
    const rejoinAt = Date.now();
    await set.restart(oldPrimary);
    const resumedAfterRejoinMs = (await load.firstSuccessAfter(rejoinAt)) - rejoinAt;
    await eventually(async () => expect(load.acknowledged.length).toBeGreaterThan(acknowledgedWithoutReplica + 200), 30_000);
    await load.stop();
    const missing = await lost(orchestrator, load.acknowledged);
    console.log(
      `REDIS_MIN_REPLICAS_ACK=1: promoted after ${promotedAfterMs} ms (killed at ${new Date(killedAt).toISOString()}), starts resumed ${resumedAfterRejoinMs} ms after the old primary came back as a replica; ${load.acknowledged.length} acknowledged, ${load.failed} failed, ${missing.length} acknowledged but lost`,
    );
    expect(missing).toEqual([]);
    await state.close();
    await bus.close();
  }, 180_000);
});
