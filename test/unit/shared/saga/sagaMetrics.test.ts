/**
 * The orchestrator's saga metrics on the embedded backends with time driven by hand: a started
 * saga counts once, each end counts under its outcome with its duration from the start, and two
 * orchestrators sharing the sagas never count one end twice.
 */
import { Registry } from 'prom-client';
import { InMemoryEventBus } from '@trellis/kit/internal/events';
import { InMemoryStateStore, type StateStore } from '@trellis/kit/internal/state';
import { createLogger } from '@trellis/kit/internal/logging';
import { SagaOrchestrator, sagaKey, type SagaDefinition, type SagaRecord, type SagaReply } from '@trellis/kit/internal/saga';
import { ManualClock } from '@trellis/kit/testing';

const retry = { maxAttempts: 1, backoffMs: 100, maxBackoffMs: 100 };
const definition: SagaDefinition<Record<string, never>> = {
  name: 'demo',
  steps: [
    { name: 'one', participant: 'alpha', command: 'doOne', compensation: 'undoOne', payload: () => ({}), timeoutMs: 1000, retry },
    { name: 'two', participant: 'beta', command: 'doTwo', payload: () => ({}), timeoutMs: 1000, retry },
  ],
};

const logger = createLogger({ service: 'test', level: 'silent' });
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** Every sample of the registry, as `name{labels}` → value, labels sorted (the registry's own output). */
async function samples(registry: Registry): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const value of metric.values) {
      const labels = Object.entries(value.labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}="${v}"`)
        .join(',');
      out[`${(value as { metricName?: string }).metricName ?? metric.name}{${labels}}`] = value.value;
    }
  }
  return out;
}

describe('saga metrics', () => {
  let clock: ManualClock;
  let state: StateStore;
  let bus: InMemoryEventBus;
  let registry: Registry;
  const orchestrators: SagaOrchestrator[] = [];

  const start = async (metrics: Registry | undefined = registry) => {
    const orchestrator = new SagaOrchestrator({ state, events: bus, logger, definitions: [definition], clock, sweepIntervalMs: 600_000, registry: metrics });
    await orchestrator.start();
    clock.advance(0);
    await flush();
    orchestrators.push(orchestrator);
    return orchestrator;
  };
  const stateOf = async (id: string) => (JSON.parse((await state.getVersioned(sagaKey(id)))!.value) as SagaRecord).state;
  const reply = async (sagaId: string, stepIndex: number, action: SagaReply['action'], outcome: SagaReply['outcome']) => {
    // A failure is a refusal retrying cannot fix: a refused compensation fails the saga at once.
    const retriable = outcome === 'failure' ? { retriable: false } : {};
    await bus.publish('saga.replies', { key: sagaId, value: JSON.stringify({ sagaId, stepIndex, action, outcome, ...retriable }) });
    for (let i = 0; i < 5; i++) await flush();
  };

  beforeEach(() => {
    clock = new ManualClock();
    state = new InMemoryStateStore({ now: () => clock.current });
    bus = new InMemoryEventBus();
    registry = new Registry();
  });

  afterEach(async () => {
    await Promise.all(orchestrators.splice(0).map((orchestrator) => orchestrator.stop()));
  });

  it('counts a start, and an end under its outcome with the time from the start', async () => {
    const orchestrator = await start();
    await orchestrator.startSaga('demo', {}, { id: 'done' });
    expect(await samples(registry)).toMatchObject({ 'trellis_sagas_started_total{saga="demo"}': 1 });
    expect(Object.keys(await samples(registry)).filter((key) => key.startsWith('trellis_sagas_finished_total'))).toEqual([]);

    clock.advance(300);
    await reply('done', 0, 'command', 'success');
    clock.advance(1200);
    await reply('done', 1, 'command', 'success');
    expect(await stateOf('done')).toBe('COMPLETED');

    const seen = await samples(registry);
    expect(seen).toMatchObject({
      'trellis_sagas_finished_total{outcome="completed",saga="demo"}': 1,
      'trellis_saga_duration_seconds_count{outcome="completed",saga="demo"}': 1,
      'trellis_saga_duration_seconds_sum{outcome="completed",saga="demo"}': 1.5,
      // 1.5 s falls in the 2.5 s bucket, not the 1 s one.
      'trellis_saga_duration_seconds_bucket{le="1",outcome="completed",saga="demo"}': 0,
      'trellis_saga_duration_seconds_bucket{le="2.5",outcome="completed",saga="demo"}': 1,
    });
  });

  it('counts compensated and failed sagas apart', async () => {
    const orchestrator = await start();
    // Step two refused: step one is compensated.
    await orchestrator.startSaga('demo', {}, { id: 'undone' });
    await reply('undone', 0, 'command', 'success');
    await reply('undone', 1, 'command', 'failure');
    await reply('undone', 0, 'compensation', 'success');
    expect(await stateOf('undone')).toBe('COMPENSATED');
    // Step two refused, then the compensation of step one refused for good: failed.
    await orchestrator.startSaga('demo', {}, { id: 'stuck' });
    await reply('stuck', 0, 'command', 'success');
    await reply('stuck', 1, 'command', 'failure');
    await reply('stuck', 0, 'compensation', 'failure');
    expect(await stateOf('stuck')).toBe('FAILED');

    const seen = await samples(registry);
    expect(seen['trellis_sagas_started_total{saga="demo"}']).toBe(2);
    expect(seen['trellis_sagas_finished_total{outcome="compensated",saga="demo"}']).toBe(1);
    expect(seen['trellis_sagas_finished_total{outcome="failed",saga="demo"}']).toBe(1);
    expect(seen['trellis_sagas_finished_total{outcome="completed",saga="demo"}']).toBeUndefined();
    expect(seen['trellis_saga_duration_seconds_count{outcome="failed",saga="demo"}']).toBe(1);
  });

  it('does not count a start again for an idempotent retry that gets the first saga', async () => {
    const orchestrator = await start();
    const idempotency = { scope: 'u1', key: 'k1', request: { n: 1 } };
    const first = await orchestrator.startSaga('demo', {}, { idempotency });
    const again = await orchestrator.startSaga('demo', {}, { idempotency });
    expect(again.id).toBe(first.id);
    expect((await samples(registry))['trellis_sagas_started_total{saga="demo"}']).toBe(1);
  });

  it('with two orchestrators on one store, counts one end per saga across both registries', async () => {
    const other = new Registry();
    const first = await start();
    await start(other);
    await first.startSaga('demo', {}, { id: 'shared' });
    await reply('shared', 0, 'command', 'success');
    await reply('shared', 1, 'command', 'success');
    expect(await stateOf('shared')).toBe('COMPLETED');
    // Read as they are, absent and all: one registry counted the end once, the other not at all.
    const ends = [await samples(registry), await samples(other)].map((seen) => seen['trellis_sagas_finished_total{outcome="completed",saga="demo"}']);
    expect(ends.map((end) => end ?? 'absent').sort()).toEqual([1, 'absent']);
  });

  it('registers its metrics before any saga runs, so a dashboard finds them on a fresh process', async () => {
    await start();
    const names = (await registry.getMetricsAsJSON()).map((metric) => metric.name);
    expect(names).toEqual(expect.arrayContaining(['trellis_sagas_started_total', 'trellis_sagas_finished_total', 'trellis_saga_duration_seconds']));
  });
});
