/** Power-of-two-choices balancing on in-flight requests, skipping ejected instances. */
import type { ServiceInstance } from '@trellis/kit';
import type { OutlierDetector } from './outlierDetector';

export class LoadBalancer {
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly outliers: OutlierDetector,
    private readonly random: () => number = Math.random,
  ) {}

  /** An instance to send to, or undefined when none is left after `exclude`. */
  pick(instances: ServiceInstance[], exclude: ReadonlySet<string> = new Set()): ServiceInstance | undefined {
    const open = instances.filter((instance) => !exclude.has(instance.id));
    const healthy = open.filter((instance) => !this.outliers.isEjected(instance.id));
    const pool = healthy.length > 0 ? healthy : open;
    if (pool.length <= 1) return pool[0];
    const first = Math.floor(this.random() * pool.length);
    let second = Math.floor(this.random() * (pool.length - 1));
    if (second >= first) second += 1;
    const [a, b] = [pool[first], pool[second]];
    return this.load(a.id) <= this.load(b.id) ? a : b;
  }

  acquire(id: string): void {
    this.inFlight.set(id, this.load(id) + 1);
  }

  release(id: string): void {
    const left = this.load(id) - 1;
    if (left > 0) this.inFlight.set(id, left);
    else this.inFlight.delete(id);
  }

  load(id: string): number {
    return this.inFlight.get(id) ?? 0;
  }
}
