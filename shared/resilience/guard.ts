/**
 * `guard` wraps an outbound call of a resolver (HTTP, Redis, another service) in a breaker, so
 * a dead dependency fails fast instead of piling up requests.
 *
 * ```ts
 * const loadStock = guard('redis', (id: string) => state.get(`stock:${id}`));
 * ```
 */
import type CircuitBreaker from 'opossum';
import type { Registry } from 'prom-client';
import { TrellisError, ErrorCode, errorMessage } from '../errors';
import type { Logger } from '../logging';
import { createBreaker, DEFAULT_BREAKER_SETTINGS, type BreakerSettings } from './breaker';
import { inSpan } from '../telemetry/spans';

export class DependencyUnavailableError extends TrellisError {
  constructor(dependency: string, reason: string, cause?: unknown) {
    super(ErrorCode.BACKEND_UNAVAILABLE, `${dependency} is unavailable (${reason})`, { retriable: true, cause });
  }
}

export type Guard = <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>, settings?: Partial<BreakerSettings>) => (...args: A) => Promise<R>;

export interface GuardOptions {
  registry?: Registry;
  logger?: Logger;
  defaults?: Partial<BreakerSettings>;
}

/** A `guard` bound to one process's metrics and logger. Calls guarded under one name share a breaker. */
export function createGuard(options: GuardOptions = {}): Guard {
  const breakers = new Map<string, CircuitBreaker<unknown[], unknown>>();
  return <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>, settings: Partial<BreakerSettings> = {}) => {
    const key = name;
    let breaker = breakers.get(key) as CircuitBreaker<unknown[], unknown> | undefined;
    if (!breaker) {
      breaker = createBreaker((call: unknown) => (call as () => Promise<unknown>)(), {
        name,
        kind: 'guard',
        settings: { ...DEFAULT_BREAKER_SETTINGS, ...options.defaults, ...settings },
        registry: options.registry,
        logger: options.logger,
        // A refusal by the dependency's own rules (bad input) says nothing about its health.
        isHarmless: (error) => error instanceof TrellisError && !error.retriable,
      }) as CircuitBreaker<unknown[], unknown>;
      breakers.set(key, breaker);
    }
    const guarded = breaker;
    const state = () => (guarded.opened ? 'open' : guarded.halfOpen ? 'half_open' : 'closed');
    return (...args: A): Promise<R> =>
      inSpan(`guard ${name}`, { attributes: { 'trellis.guard.name': name, 'trellis.breaker.state': state() } }, () => fire(guarded, name, () => fn(...args)));
  };
}

/** One call through its breaker; a failure that is not a refusal by the dependency's rules says it is unavailable. */
async function fire<R>(breaker: CircuitBreaker<unknown[], unknown>, name: string, run: () => Promise<R>): Promise<R> {
  try {
    return (await breaker.fire(run)) as R;
  } catch (error) {
    if (error instanceof TrellisError && !error.retriable) throw error;
    const code = (error as { code?: string }).code;
    const reason = code === 'EOPENBREAKER' ? 'breaker open' : code === 'ETIMEDOUT' ? 'timed out' : errorMessage(error);
    throw new DependencyUnavailableError(name, reason, error);
  }
}
