/**
 * Outlier ejection: an instance that fails several times in a row is taken out of rotation for a
 * while, longer each time it happens again; never more than a fraction of a subgraph's instances.
 */
export interface OutlierSettings {
  /** Consecutive failures that eject an instance. */
  consecutiveFailures: number;
  /** First ejection length; each further ejection doubles it. */
  baseEjectionMs: number;
  maxEjectionMs: number;
  /** Largest share of instances ejected at once (0.5: never more than half). */
  maxEjectedFraction: number;
}

export const DEFAULT_OUTLIER_SETTINGS: OutlierSettings = {
  consecutiveFailures: 3,
  baseEjectionMs: 5000,
  maxEjectionMs: 60_000,
  maxEjectedFraction: 0.5,
};

interface Record {
  failures: number;
  ejections: number;
  ejectedUntil: number;
}

export class OutlierDetector {
  private readonly records = new Map<string, Record>();

  constructor(
    private readonly settings: OutlierSettings = DEFAULT_OUTLIER_SETTINGS,
    private readonly now: () => number = Date.now,
  ) {}

  isEjected(id: string): boolean {
    return (this.records.get(id)?.ejectedUntil ?? 0) > this.now();
  }

  ejected(ids: string[]): string[] {
    return ids.filter((id) => this.isEjected(id));
  }

  recordSuccess(id: string): void {
    const record = this.records.get(id);
    if (!record) return;
    record.failures = 0;
    // A healthy stretch longer than the longest ejection, after the last one ended, earns back the
    // short backoff. (Still ejected: the difference is negative. Never ejected: ejections is 0 already.)
    if (this.now() - record.ejectedUntil > this.settings.maxEjectionMs) record.ejections = 0;
  }

  /** Counts a failure; returns true when it ejected the instance. `peers` are all the subgraph's instance ids. */
  recordFailure(id: string, peers: string[]): boolean {
    const record = this.records.get(id) ?? { failures: 0, ejections: 0, ejectedUntil: 0 };
    this.records.set(id, record);
    record.failures += 1;
    if (record.failures < this.settings.consecutiveFailures || this.isEjected(id)) return false;
    const allowed = Math.floor(peers.length * this.settings.maxEjectedFraction);
    // The others already out, plus this one (not among them: it is not ejected, checked above).
    if (this.ejected(peers).length + 1 > allowed) return false;
    const duration = Math.min(this.settings.baseEjectionMs * 2 ** record.ejections, this.settings.maxEjectionMs);
    record.ejections += 1;
    record.failures = 0;
    record.ejectedUntil = this.now() + duration;
    return true;
  }

  /** Forgets instances that left discovery. */
  retain(ids: string[]): void {
    const keep = new Set(ids);
    for (const id of this.records.keys()) if (!keep.has(id)) this.records.delete(id);
  }
}
