/**
 * Circuit breakers (opossum) with one set of options and one set of metrics, used by the
 * gateway per subgraph and by the kit's `guard` per outbound dependency.
 */
import CircuitBreaker from 'opossum';
import { Counter, Gauge, type Registry } from 'prom-client';
import { singleMetric } from '../metrics';
import type { Logger } from '../logging';

export interface BreakerSettings {
  /** A call slower than this fails (and its HTTP request is aborted where the caller supports it). */
  timeoutMs: number;
  /** Percentage of failed calls in the rolling window that opens the breaker. */
  errorThresholdPercentage: number;
  /** Calls needed in the window before the error percentage counts. */
  volumeThreshold: number;
  /** How long the breaker stays open before it lets one trial call through (half-open). */
  resetTimeoutMs: number;
  /** Length of the rolling statistics window. */
  rollingWindowMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = {
  timeoutMs: 2000,
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  resetTimeoutMs: 3000,
  rollingWindowMs: 10_000,
};

export type BreakerState = 'closed' | 'open' | 'half_open';
const STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export interface BreakerOptions {
  /** Label in metrics and logs (`catalog`, `redis`). */
  name: string;
  /** `subgraph` for the gateway's, `guard` for the kit's. */
  kind: 'subgraph' | 'guard' | 'gateway';
  settings: BreakerSettings;
  registry?: Registry;
  logger?: Logger;
  /** Errors for which this returns true do not count as failures (e.g. a business refusal). */
  isHarmless?: (error: unknown) => boolean;
  /** Leave timing to the caller (it aborts its own request at `timeoutMs`). */
  callerEnforcesTimeout?: boolean;
}

export function createBreaker<A extends unknown[], R>(action: (...args: A) => Promise<R>, options: BreakerOptions): CircuitBreaker<A, R> {
  const { settings } = options;
  const breaker = new CircuitBreaker<A, R>(action, {
    timeout: options.callerEnforcesTimeout ? false : settings.timeoutMs,
    errorThresholdPercentage: settings.errorThresholdPercentage,
    volumeThreshold: settings.volumeThreshold,
    resetTimeout: settings.resetTimeoutMs,
    rollingCountTimeout: settings.rollingWindowMs,
    rollingCountBuckets: 10,
    errorFilter: (error: unknown) => options.isHarmless?.(error) ?? false,
    name: options.name,
  });
  if (options.registry) instrument(breaker, options);
  return breaker;
}

export function breakerState(breaker: CircuitBreaker): BreakerState {
  return breaker.opened ? 'open' : breaker.halfOpen ? 'half_open' : 'closed';
}

function instrument(breaker: CircuitBreaker, { name, kind, registry, logger }: BreakerOptions): void {
  const reg = registry as Registry;
  const state = singleMetric(
    reg,
    'trellis_breaker_state',
    () => new Gauge({ name: 'trellis_breaker_state', help: 'Breaker state: 0 closed, 1 half-open, 2 open', labelNames: ['breaker', 'kind'], registers: [reg] }),
  );
  const calls = singleMetric(
    reg,
    'trellis_breaker_calls_total',
    () =>
      new Counter({
        name: 'trellis_breaker_calls_total',
        help: 'Calls through a breaker by outcome',
        labelNames: ['breaker', 'kind', 'outcome'],
        registers: [reg],
      }),
  );
  const transitions = singleMetric(
    reg,
    'trellis_breaker_transitions_total',
    () =>
      new Counter({
        name: 'trellis_breaker_transitions_total',
        help: 'Breaker state changes, by the state entered',
        labelNames: ['breaker', 'kind', 'to'],
        registers: [reg],
      }),
  );
  const labels = { breaker: name, kind };
  state.set(labels, 0);
  const setState = (next: BreakerState) => {
    state.set(labels, STATE_VALUE[next]);
    transitions.inc({ ...labels, to: next });
    logger?.warn({ breaker: name, kind, state: next }, `breaker ${name} ${next.replace('_', '-')}`);
  };
  breaker.on('open', () => setState('open'));
  breaker.on('halfOpen', () => setState('half_open'));
  breaker.on('close', () => setState('closed'));
  breaker.on('success', () => calls.inc({ ...labels, outcome: 'success' }));
  breaker.on('failure', () => calls.inc({ ...labels, outcome: 'failure' }));
  breaker.on('timeout', () => calls.inc({ ...labels, outcome: 'timeout' }));
  breaker.on('reject', () => calls.inc({ ...labels, outcome: 'rejected' }));
}
