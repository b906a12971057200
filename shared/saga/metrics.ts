/**
 * The saga engine's Prometheus metrics: sagas started, sagas ended by outcome, and how long they
 * took. Counted by the orchestrator whose compare-and-set won the transition, so with several
 * orchestrators every saga counts once.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { keepsExemplars, observeWithTrace, singleMetric } from '../metrics';
import { TERMINAL_STATES, type SagaRecord } from './types';
import type { ParkedSaga } from './parking';

/** From a quick saga (tens of ms) to one that waited out retries and compensations (minutes). */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export class SagaMetrics {
  private readonly started: Counter<'saga'>;
  private readonly finished: Counter<'saga' | 'outcome'>;
  private readonly duration: Histogram<'saga' | 'outcome'>;
  private readonly parked: Counter<'saga' | 'reason'>;
  private readonly parkedInStore: Gauge<'saga' | 'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.started = singleMetric(
      registry,
      'trellis_sagas_started_total',
      () => new Counter({ name: 'trellis_sagas_started_total', help: 'Sagas started, by definition', labelNames: ['saga'], registers }),
    );
    this.finished = singleMetric(
      registry,
      'trellis_sagas_finished_total',
      () =>
        new Counter({
          name: 'trellis_sagas_finished_total',
          help: 'Sagas that reached a terminal state, by definition and outcome (completed, compensated, failed)',
          labelNames: ['saga', 'outcome'],
          registers,
        }),
    );
    this.duration = singleMetric(
      registry,
      'trellis_saga_duration_seconds',
      () =>
        new Histogram({
          name: 'trellis_saga_duration_seconds',
          help: 'Time from a saga\'s start to its terminal state, by definition and outcome',
          labelNames: ['saga', 'outcome'],
          buckets: DURATION_BUCKETS,
          registers,
          // The saga's trace id on its duration (the reply that ended it is handled in the saga's trace).
          enableExemplars: keepsExemplars(registry),
        }),
    );
    this.parked = singleMetric(
      registry,
      'trellis_sagas_parked_total',
      () =>
        new Counter({
          name: 'trellis_sagas_parked_total',
          help: 'Sagas this process parked because it cannot drive them, by definition and reason (unknown-version, unknown-definition, unreadable)',
          labelNames: ['saga', 'reason'],
          registers,
        }),
    );
    this.parkedInStore = singleMetric(
      registry,
      'trellis_sagas_parked',
      () =>
        new Gauge({
          name: 'trellis_sagas_parked',
          help: "Sagas parked in the state store at this orchestrator's last look, by definition and reason; every orchestrator reports the same store, so take the max, not the sum",
          labelNames: ['saga', 'reason'],
          registers,
        }),
    );
  }

  /** A saga this process parked (it was not parked before). */
  sagaParked(parked: ParkedSaga): void {
    this.parked.inc({ saga: parked.definition ?? 'unreadable', reason: parked.reason });
  }

  /** What is parked in the store now: the gauge is set anew, so a saga taken back stops counting. */
  parkedNow(parked: readonly ParkedSaga[]): void {
    this.parkedInStore.reset();
    for (const saga of parked) this.parkedInStore.inc({ saga: saga.definition ?? 'unreadable', reason: saga.reason });
  }

  /** A saga this process created (its first write won). */
  sagaStarted(record: SagaRecord, now: number): void {
    this.started.inc({ saga: record.definition });
    this.sagaMoved(record, now);
  }

  /** A transition this process wrote; counts the saga's end when the record is terminal. */
  sagaMoved(record: SagaRecord, now: number): void {
    if (!TERMINAL_STATES.has(record.state)) return;
    const labels = { saga: record.definition, outcome: record.state.toLowerCase() };
    this.finished.inc(labels);
    observeWithTrace(this.duration, labels, Math.max(0, now - Date.parse(record.createdAt)) / 1000);
  }
}
