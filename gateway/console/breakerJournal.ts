/** Each subgraph breaker's recent state changes, kept in memory (the newest `perBreaker` of each) for the console. */
import type CircuitBreaker from 'opossum';
import type { BreakerState } from '@trellis/kit/internal';
import { BoundedLog } from './boundedLog';

export interface BreakerTransition {
  at: string;
  to: BreakerState;
}

export class BreakerJournal {
  private readonly logs = new Map<string, BoundedLog<BreakerTransition>>();

  constructor(
    private readonly perBreaker = 20,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records every transition of `breaker` under `name` from now on. */
  follow(name: string, breaker: CircuitBreaker): void {
    const log = new BoundedLog<BreakerTransition>(this.perBreaker);
    this.logs.set(name, log);
    const record = (to: BreakerState) => log.add({ at: new Date(this.now()).toISOString(), to });
    breaker.on('open', () => record('open'));
    breaker.on('halfOpen', () => record('half_open'));
    breaker.on('close', () => record('closed'));
  }

  /** Newest first; empty for a breaker that never changed state. */
  transitionsOf(name: string): BreakerTransition[] {
    return this.logs.get(name)?.newestFirst() ?? [];
  }
}
