/**
 * The orchestrator killed (SIGKILL) at random points, over and over, while sagas run on real
 * Kafka and Redis: every saga still ends terminal, stock never goes negative, available +
 * reserved stays constant, and no saga is charged twice or left charged when undone. Each kill's
 * landing is recorded (sagas in flight, by step) and most must have hit sagas in flight, while the
 * orchestrator ran them and while it booted: kills of an idle process would prove nothing.
 */
import type { ChildProcess } from 'node:child_process';
import { TERMINAL_STATES, type SagaHandler, type SagaRecord } from '@trellis/kit/saga';
import { startSagaWorld, type SagaWorld } from '../../support/sagaWorld';
import { realBackends } from '../../support/backends';
import { CRASH_TIMINGS } from '../../support/sagaProcess';
import { killChild, readyLine, spawnSagaProcess } from '../../support/processRunner';
import { describeLanding, hits, landingOf, stepsHit, type KillLanding } from '../../support/killLandings';

const SAGAS = 60;
const KILLS = 20;

describe('orchestrator killed at random points', () => {
  let world: SagaWorld;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    world = await startSagaWorld(CRASH_TIMINGS);
    // Participants take a moment per command, so kills land while sagas are in flight.
    const slow = (handlers: Record<string, SagaHandler>) =>
      Object.fromEntries(
        Object.entries(handlers).map(([name, handler]) => [
          name,
          (async (payload: never, context) => {
            await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 300));
            return handler(payload, context);
          }) as SagaHandler,
        ]),
      );
    await world.startParticipant('catalog', slow(world.inventory.sagaHandlers()));
    await world.startParticipant('payments', slow(world.ledger.sagaHandlers()));
    await world.startParticipant('orders', slow(world.orders.sagaHandlers()));
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await world?.close();
  });

  const spawnOrchestrator = () =>
    spawnSagaProcess('orchestrator', {
      redisUrl: realBackends.redisUrl,
      kafkaBrokers: realBackends.kafkaBrokers,
      namespace: world.namespace,
      extra: { SAGA_COUNT: String(SAGAS) },
    });
  /** Resolves when the child says its orchestrator is running (or after `capMs`). */
  const ready = async (proc: ChildProcess, capMs: number) => {
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<void>((resolve) => (timer = setTimeout(resolve, capMs)));
    await Promise.race([readyLine(proc, 'orchestrator').catch(() => undefined), cap]);
    clearTimeout(timer);
  };
  const kill = (proc: ChildProcess) => killChild(proc);
  const sagas = () => Promise.all(Array.from({ length: SAGAS }, (_, i) => world.saga(`crash-${i}`)));

  it(`keeps every invariant through ${KILLS} kills`, async () => {
    const seed = await world.stock('p2');
    const samples: Array<{ available: number; reserved: number }> = [];
    const sampler = setInterval(() => void world.stock('p2').then((stock) => samples.push(stock)), 100);
    const landings: KillLanding[] = [];
    try {
      for (let kills = 0; kills < KILLS; kills++) {
        child = spawnOrchestrator();
        let booted = false;
        void readyLine(child, 'orchestrator').then(() => (booted = true), () => undefined);
        // Every fourth kill is aimed at its boot (resuming, joining the group); the others at it running sagas.
        if (kills % 4 === 3) await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 2000));
        else await ready(child, 20_000).then(() => new Promise((resolve) => setTimeout(resolve, Math.random() * 1500)));
        // Where this kill lands: the sagas in flight (started, not terminal) and the step each is at, read just before it.
        landings.push(landingOf(`kill ${kills + 1} ${booted ? 'running' : 'booting'}`, await sagas()));
        await kill(child);
      }
      child = spawnOrchestrator();
      const deadline = Date.now() + 150_000;
      let records = await sagas();
      while (!records.every((record) => record && TERMINAL_STATES.has(record.state))) {
        if (Date.now() > deadline) throw new Error(`not all terminal: ${records.map((r) => r?.state ?? 'missing').join(',')}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        records = await sagas();
      }
    } finally {
      clearInterval(sampler);
    }

    const records = (await sagas()) as SagaRecord[];
    const completed = records.filter((record) => record.state === 'COMPLETED');
    const end = await world.stock('p2');
    // Stock: never negative, available + reserved constant, reserved = what completed sagas took.
    expect(samples.length).toBeGreaterThan(50);
    expect(samples.every((stock) => stock.available >= 0 && stock.available + stock.reserved === seed.available + seed.reserved)).toBe(true);
    expect(end.reserved - seed.reserved).toBe(completed.length);
    // Money: a completed saga charged once; an undone one holds no captured payment.
    for (const record of records) {
      const payment = await world.payment(`o-${record.id}`);
      if (record.state === 'COMPLETED') expect(payment).toMatchObject({ state: 'CAPTURED', sagaId: record.id });
      else expect(payment?.state ?? 'NONE').not.toBe('CAPTURED');
    }
    expect(records.filter((record) => record.state === 'FAILED')).toEqual([]);
    // Declined cards compensate; the others complete until the stock runs out.
    expect(records.filter((_, i) => i % 5 === 0).every((record) => record.state === 'COMPENSATED')).toBe(true);
    expect(completed.length).toBeGreaterThan(0);
    expect(completed.length).toBeLessThanOrEqual(seed.available);
    process.stdout.write(`crash test: ${KILLS} kills; ${completed.length} completed, ${SAGAS - completed.length} compensated; where each kill landed:\n${landings.map((landing) => `  ${describeLanding(landing)}`).join('\n')}\n`);
    // The kills hit work in flight, not an idle or finished run: most with sagas open, at more than
    // one step, and both while the orchestrator ran sagas and while it was still booting.
    expect(hits(landings).length).toBeGreaterThanOrEqual(KILLS / 2);
    expect(stepsHit(landings).size).toBeGreaterThanOrEqual(2);
    expect(hits(landings).filter((kill) => kill.label.endsWith('running')).length).toBeGreaterThanOrEqual(KILLS / 4);
    expect(hits(landings).filter((kill) => kill.label.endsWith('booting')).length).toBeGreaterThanOrEqual(1);
  });
});
