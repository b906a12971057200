/**
 * Identical subgraph queries in flight at the same moment share one HTTP call. Callers get the
 * response text and parse their own copy, because the gateway mutates what it receives.
 */
export class InflightDedup<T = string> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, call: () => Promise<T>): Promise<T> {
    const existing = this.inFlight.get(key);
    if (existing) return existing;
    const started = call().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }

  get size(): number {
    return this.inFlight.size;
  }
}
