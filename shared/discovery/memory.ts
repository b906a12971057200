/**
 * In-process discovery: a registry in memory that health-checks what registers, like a Consul
 * agent would, so an instance that dies without deregistering still drops out.
 */
import type { Logger } from '../logging';
import { sameInstances, sortInstances, type Discovery, type ServiceInstance, type ServiceRegistration, type Watch } from './types';

export type HealthCheck = (url: string) => Promise<boolean>;

export interface InMemoryDiscoveryOptions {
  /** Milliseconds between health checks; 0 turns checking off (every registration counts as healthy). */
  healthIntervalMs?: number;
  /** Consecutive failed checks before an instance counts as unhealthy. */
  failuresBeforeUnhealthy?: number;
  /** An instance unhealthy this long is deregistered, as Consul's DeregisterCriticalServiceAfter does. */
  deregisterCriticalAfterMs?: number;
  checkHealth?: HealthCheck;
  logger?: Logger;
}

interface Entry {
  registration: ServiceRegistration;
  healthy: boolean;
  failures: number;
  unhealthySince?: number;
}

export async function httpHealthCheck(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

export class InMemoryDiscovery implements Discovery {
  private readonly entries = new Map<string, Entry>();
  private readonly watchers = new Set<(instances: ServiceInstance[]) => void>();
  private lastReported: ServiceInstance[] = [];
  private timer?: NodeJS.Timeout;
  private checking = false;
  private readonly intervalMs: number;
  private readonly failuresBeforeUnhealthy: number;
  private readonly checkHealth: HealthCheck;

  constructor(private readonly options: InMemoryDiscoveryOptions = {}) {
    this.intervalMs = options.healthIntervalMs ?? 0;
    this.failuresBeforeUnhealthy = options.failuresBeforeUnhealthy ?? 1;
    this.checkHealth = options.checkHealth ?? ((url) => httpHealthCheck(url));
    if (this.intervalMs > 0) {
      this.timer = setInterval(() => void this.checkAll(), this.intervalMs);
      this.timer.unref();
    }
  }

  async register(registration: ServiceRegistration): Promise<void> {
    // With health checking on, an instance is healthy once its first check passes, as in Consul.
    const healthy = this.intervalMs === 0 || (await this.checkHealth(registration.healthUrl));
    this.entries.set(registration.id, { registration, healthy, failures: 0, unhealthySince: healthy ? undefined : Date.now() });
    this.options.logger?.debug({ instance: registration.id }, 'instance registered');
    this.notify();
  }

  async deregister(id: string): Promise<void> {
    if (this.entries.delete(id)) this.notify();
  }

  async watch(onChange: (instances: ServiceInstance[]) => void): Promise<Watch> {
    this.watchers.add(onChange);
    onChange(this.instances());
    return {
      stop: async () => {
        this.watchers.delete(onChange);
      },
    };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.watchers.clear();
  }

  /** Runs one round of health checks now; the timer calls it, and tests may too. */
  async checkAll(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await Promise.all(
        [...this.entries.values()].map(async (entry) => {
          const passed = await this.checkHealth(entry.registration.healthUrl);
          entry.failures = passed ? 0 : entry.failures + 1;
          entry.healthy = passed || (entry.healthy && entry.failures < this.failuresBeforeUnhealthy);
          entry.unhealthySince = entry.healthy ? undefined : (entry.unhealthySince ?? Date.now());
        }),
      );
      const limit = this.options.deregisterCriticalAfterMs ?? 30_000;
      for (const [id, entry] of this.entries) {
        if (entry.unhealthySince !== undefined && Date.now() - entry.unhealthySince >= limit) this.entries.delete(id);
      }
      this.notify();
    } finally {
      this.checking = false;
    }
  }

  private instances(): ServiceInstance[] {
    return sortInstances(
      [...this.entries.values()].map(({ registration: r, healthy }) => ({
        id: r.id,
        name: r.name,
        url: r.url,
        meta: { ...(r.meta ?? {}) },
        healthy,
      })),
    );
  }

  private notify(): void {
    const current = this.instances();
    if (sameInstances(current, this.lastReported)) return;
    this.lastReported = current;
    for (const watcher of this.watchers) watcher(current);
  }
}
