/**
 * Consul discovery over its HTTP API. Registration carries an HTTP check on the instance's
 * readiness URL; the watch follows Consul with blocking queries (`index` + `wait`), one on the
 * service catalog and one per subgraph service, so changes arrive as they happen with no polling
 * delay. While the agent is unreachable it retries with backoff and keeps the last known set.
 *
 * Plain fetch instead of the `consul` package: four endpoints, and blocking queries need exact
 * control of `index`, `wait` and cancellation (AbortSignal), which the package's watch hides.
 */
import { Backoff } from '../retry';
import { Agent, fetch as undiciFetch } from 'undici';
import { BackendUnavailableError, errorMessage } from '../errors';
import type { Logger } from '../logging';
import { sameInstances, sortInstances, SUBGRAPH_TAG, type Discovery, type ServiceInstance, type ServiceRegistration, type Watch } from './types';
import { parseWait, registrationBody, toInstance, type HealthEntry } from './consulRecords';

export interface ConsulDiscoveryOptions {
  url: string;
  logger?: Logger;
  /** How often Consul checks each instance's readiness URL. */
  checkInterval?: string;
  /** Consul removes an instance whose check stays critical this long (a crashed process). */
  deregisterCriticalAfter?: string;
  /**
   * Keeps this platform's subgraphs apart from others registered in the same Consul: instances are
   * tagged `trellis-subgraph@<namespace>` and only those are watched.
   */
  namespace?: string;
  /** Longest a blocking query waits before Consul answers unchanged. */
  blockingWait?: string;
  requestTimeoutMs?: number;
  /** How often registrations are checked and restored if the agent lost them (it restarted). */
  antiEntropyMs?: number;
  /**
   * After the agent comes back from an outage, instances that vanish are kept this long: a
   * restarted agent answers empty until instances re-register, and that is not a real change.
   */
  recoveryGraceMs?: number;
  /** ACL token sent on every call (`X-Consul-Token`); see docs/security.md for the policy each process needs. */
  token?: string;
  /** PEM of the CA that signed the agent's certificate, for an https `url`. */
  caCert?: string;
}

export class ConsulDiscovery implements Discovery {
  private readonly base: string;
  private readonly watches = new Set<AbortController>();
  private readonly registrations = new Map<string, ServiceRegistration>();
  private antiEntropy?: NodeJS.Timeout;
  private recoveredAt = 0;

  private readonly tag: string;

  private readonly dispatcher?: Agent;

  constructor(private readonly options: ConsulDiscoveryOptions) {
    this.tag = options.namespace ? `${SUBGRAPH_TAG}@${options.namespace}` : SUBGRAPH_TAG;
    this.base = options.url.replace(/\/$/, '');
    if (options.caCert) this.dispatcher = new Agent({ connect: { ca: options.caCert } });
  }

  /** Every call to the agent: with the ACL token, and over TLS verified against the given CA. */
  private call(path: string, init: { method?: string; body?: string; signal: AbortSignal }): Promise<Response> {
    const headers: Record<string, string> = {};
    if (init.body) headers['content-type'] = 'application/json';
    if (this.options.token) headers['x-consul-token'] = this.options.token;
    const request = { ...init, headers };
    if (!this.dispatcher) return fetch(this.base + path, request);
    return undiciFetch(this.base + path, { ...request, dispatcher: this.dispatcher }) as unknown as Promise<Response>;
  }

  async register(registration: ServiceRegistration): Promise<void> {
    await this.put(registration);
    this.registrations.set(registration.id, registration);
    this.antiEntropy ??= setInterval(() => void this.restoreRegistrations(), this.options.antiEntropyMs ?? 2000);
    this.antiEntropy.unref();
  }

  async deregister(id: string): Promise<void> {
    this.registrations.delete(id);
    await this.request('PUT', `/v1/agent/service/deregister/${encodeURIComponent(id)}`);
  }

  /** Re-registers whatever the agent no longer knows (an agent restart loses dev-mode state). */
  private async restoreRegistrations(): Promise<void> {
    for (const registration of this.registrations.values()) {
      try {
        const response = await this.call(`/v1/agent/service/${encodeURIComponent(registration.id)}`, {
          signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 3000),
        });
        await response.arrayBuffer();
        if (response.status === 404 && this.registrations.has(registration.id)) {
          await this.put(registration);
          this.options.logger?.info({ instance: registration.id }, 'consul lost this registration; registered again');
        }
      } catch {
        // Agent unreachable: the next round tries again.
      }
    }
  }

  private async put(registration: ServiceRegistration): Promise<void> {
    const { tag, options } = this;
    await this.request('PUT', '/v1/agent/service/register', registrationBody(registration, { tag, checkInterval: options.checkInterval, deregisterCriticalAfter: options.deregisterCriticalAfter }));
  }

  async watch(onChange: (instances: ServiceInstance[]) => void): Promise<Watch> {
    const controller = new AbortController();
    this.watches.add(controller);
    const byService = new Map<string, ServiceInstance[]>();
    const serviceLoops = new Map<string, AbortController>();
    let reported: ServiceInstance[] | undefined;
    let catalogKnown = false;

    let graceTimer: NodeJS.Timeout | undefined;
    const report = () => {
      if (!catalogKnown || [...serviceLoops.keys()].some((name) => !byService.has(name))) return;
      const current = sortInstances([...byService.values()].flat());
      if (reported && sameInstances(current, reported)) return;
      const graceLeft = this.recoveredAt + (this.options.recoveryGraceMs ?? 10_000) - Date.now();
      const losesInstances = reported?.some((instance) => !current.some((c) => c.id === instance.id));
      if (graceLeft > 0 && losesInstances) {
        // Just back from an outage: give instances time to re-register before dropping them.
        clearTimeout(graceTimer);
        graceTimer = setTimeout(report, graceLeft + 10);
        graceTimer.unref();
        return;
      }
      reported = current;
      onChange(current);
    };

    const followService = (name: string, signal: AbortSignal) =>
      this.follow<HealthEntry[]>(`/v1/health/service/${encodeURIComponent(name)}?tag=${encodeURIComponent(this.tag)}`, signal, (entries) => {
        byService.set(name, entries.map((entry) => toInstance(entry, this.options.logger)));
        report();
      });

    void this.follow<Record<string, string[]>>('/v1/catalog/services', controller.signal, (services) => {
      const names = Object.entries(services)
        .filter(([, tags]) => tags?.includes(this.tag))
        .map(([name]) => name);
      for (const [name, loop] of serviceLoops) {
        if (!names.includes(name)) {
          loop.abort();
          serviceLoops.delete(name);
          byService.delete(name);
        }
      }
      for (const name of names) {
        if (serviceLoops.has(name)) continue;
        const loop = new AbortController();
        controller.signal.addEventListener('abort', () => loop.abort());
        serviceLoops.set(name, loop);
        void followService(name, loop.signal);
      }
      catalogKnown = true;
      report();
    });

    return {
      stop: async () => {
        clearTimeout(graceTimer);
        controller.abort();
        this.watches.delete(controller);
      },
    };
  }

  async close(): Promise<void> {
    clearInterval(this.antiEntropy);
    for (const controller of this.watches) controller.abort();
    this.watches.clear();
    await this.dispatcher?.close();
  }

  /**
   * Runs a blocking query until aborted: calls `onResult` whenever Consul's index moves, and
   * backs off (up to 5 s) while the agent is unreachable, keeping whatever was reported before.
   */
  private async follow<T>(path: string, signal: AbortSignal, onResult: (body: T) => void): Promise<void> {
    let index = '0';
    const backoff = new Backoff({ initialDelayMs: 200, maxDelayMs: 5000, jitter: 0.2 });
    const wait = this.options.blockingWait ?? '30s';
    while (!signal.aborted) {
      try {
        const separator = path.includes('?') ? '&' : '?';
        const response = await this.call(`${path}${separator}index=${index}&wait=${wait}`, {
          signal: AbortSignal.any([signal, AbortSignal.timeout(parseWait(wait) + 10_000)]),
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
        if (backoff.consecutiveFailures > 0) {
          this.recoveredAt = Date.now();
          this.options.logger?.info({ path }, 'consul reachable again');
        }
        backoff.reset();
        const next = response.headers.get('x-consul-index') ?? '0';
        const body = (await response.json()) as T;
        // An index that goes backwards (agent restarted) means start over.
        if (Number(next) < Number(index)) index = '0';
        else if (next !== index) {
          index = next;
          onResult(body);
        }
      } catch (error) {
        if (signal.aborted) return;
        const delayMs = backoff.next();
        const failures = backoff.consecutiveFailures;
        if (failures === 1 || failures % 10 === 0) {
          this.options.logger?.warn({ path, err: errorMessage(error), failures }, 'consul watch failed; keeping the last known set');
        }
        index = '0';
        await sleep(delayMs, signal);
      }
    }
  }

  private async request(method: string, path: string, body?: unknown): Promise<void> {
    try {
      const response = await this.call(path, {
        method,
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 3000),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    } catch (error) {
      throw new BackendUnavailableError('consul', `${method} ${path} failed: ${errorMessage(error)}`, error);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
