/**
 * Consul discovery on the `consul` package. Registration carries an HTTP check on the instance's
 * readiness URL; the watch follows Consul with blocking queries (`index` + `wait`, the package's
 * `Watch`), one on the service catalog and one per subgraph service, so changes arrive as they
 * happen with no polling delay. While the agent is unreachable it retries with backoff and keeps
 * the last known set. The same client serves the composer lock and the published supergraph
 * (`supergraphPublication`, consulPublication.ts).
 */
import type Consul from 'consul';
import { BackendUnavailableError } from '../errors';
import type { Logger } from '../logging';
import { sameInstances, sortInstances, SUBGRAPH_TAG, type Discovery, type ServiceInstance, type ServiceRegistration, type Watch } from './types';
import { registrationBody, toInstance, type HealthEntry } from './consulRecords';
import { consulClient, settled } from './consulClient';
import { consulErrorMessage, followConsul, type Following } from './consulFollow';
import { ConsulSupergraphPublication, type ConsulPublicationOptions } from './consulPublication';

export interface ConsulDiscoveryOptions {
  url: string;
  logger?: Logger;
  /** How often Consul checks each instance's readiness URL. */
  checkInterval?: string;
  /** Failed readiness checks in a row before Consul counts an instance critical (unhealthy); 3 unless set. */
  failuresBeforeCritical?: number;
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
  private readonly consul: Consul;
  private readonly watches = new Set<() => void>();
  private readonly registrations = new Map<string, ServiceRegistration>();
  private antiEntropy?: NodeJS.Timeout;
  private recoveredAt = 0;
  private readonly tag: string;
  private readonly publications = new Set<ConsulSupergraphPublication>();

  constructor(private readonly options: ConsulDiscoveryOptions) {
    this.tag = options.namespace ? `${SUBGRAPH_TAG}@${options.namespace}` : SUBGRAPH_TAG;
    this.consul = consulClient(options);
  }

  /**
   * The lock that elects one composing gateway, and the supergraph it publishes in KV, on this
   * discovery's agent and credentials; its keys default to `trellis/supergraph` (with a namespace,
   * `trellis/<namespace>/supergraph`). Closed with the discovery.
   */
  supergraphPublication(settings: Omit<ConsulPublicationOptions, 'consul' | 'logger'> = {}): ConsulSupergraphPublication {
    const { namespace, logger, blockingWait } = this.options;
    const prefix = settings.prefix ?? (namespace ? `trellis/${namespace}/supergraph` : 'trellis/supergraph');
    const publication = new ConsulSupergraphPublication({ blockingWait, ...settings, prefix, consul: this.consul, logger });
    this.publications.add(publication);
    return publication;
  }

  async register(registration: ServiceRegistration): Promise<void> {
    await this.put(registration);
    this.registrations.set(registration.id, registration);
    this.antiEntropy ??= setInterval(() => void this.restoreRegistrations(), this.options.antiEntropyMs ?? 2000);
    this.antiEntropy.unref();
  }

  async deregister(id: string): Promise<void> {
    this.registrations.delete(id);
    await this.request(`deregister ${id}`, () => settled(this.consul.agent.service.deregister(id)));
  }

  /** Re-registers whatever the agent no longer knows (an agent restart loses dev-mode state). */
  private async restoreRegistrations(): Promise<void> {
    if (this.registrations.size === 0) return;
    let known: Record<string, unknown>;
    try {
      known = (await settled(this.consul.agent.service.list())) as Record<string, unknown>;
    } catch {
      return; // Agent unreachable: the next round tries again.
    }
    for (const registration of this.registrations.values()) {
      if (registration.id in known) continue;
      try {
        await this.put(registration);
        this.options.logger?.info({ instance: registration.id }, 'consul lost this registration; registered again');
      } catch {
        // The next round tries again.
      }
    }
  }

  private async put(registration: ServiceRegistration): Promise<void> {
    const { tag, options } = this;
    const body = registrationBody(registration, {
      tag,
      checkInterval: options.checkInterval,
      failuresBeforeCritical: options.failuresBeforeCritical,
      deregisterCriticalAfter: options.deregisterCriticalAfter,
    });
    // The package takes Consul's own field names (it lower-cases keys before building the request).
    await this.request(`register ${registration.id}`, () => settled(this.consul.agent.service.register(body as never)));
  }

  async watch(onChange: (instances: ServiceInstance[]) => void): Promise<Watch> {
    const byService = new Map<string, ServiceInstance[]>();
    const serviceLoops = new Map<string, Following>();
    let reported: ServiceInstance[] | undefined;
    let catalogKnown = false;
    let stopped = false;

    let graceTimer: NodeJS.Timeout | undefined;
    const report = () => {
      if (stopped || !catalogKnown || [...serviceLoops.keys()].some((name) => !byService.has(name))) return;
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
    const follow = <T>(what: string, call: (query: Record<string, unknown>) => Promise<unknown>, onResult: (body: T | undefined) => void) =>
      followConsul<T>(this.consul, {
        what,
        call,
        wait: this.options.blockingWait,
        logger: this.options.logger,
        onChange: onResult,
        onSuccess: (afterFailures) => {
          if (afterFailures > 0) this.recoveredAt = Date.now();
        },
      });

    const followService = (name: string) =>
      follow<HealthEntry[]>(
        `health/service/${name}`,
        (query) => this.consul.health.service({ ...query, service: name, tag: this.tag } as never),
        (entries) => {
          byService.set(name, (entries ?? []).map((entry) => toInstance(entry, this.options.logger)));
          report();
        },
      );

    const catalog = follow<Record<string, string[] | null>>(
      'catalog/services',
      (query) => this.consul.catalog.service.list(query as never),
      (services) => {
        if (stopped) return;
        const names = Object.entries(services ?? {})
          .filter(([, tags]) => tags?.includes(this.tag))
          .map(([name]) => name);
        for (const [name, loop] of serviceLoops) {
          if (!names.includes(name)) {
            loop.stop();
            serviceLoops.delete(name);
            byService.delete(name);
          }
        }
        for (const name of names) if (!serviceLoops.has(name)) serviceLoops.set(name, followService(name));
        catalogKnown = true;
        report();
      },
    );

    const stopAll = () => {
      stopped = true;
      clearTimeout(graceTimer);
      catalog.stop();
      for (const loop of serviceLoops.values()) loop.stop();
      serviceLoops.clear();
    };
    this.watches.add(stopAll);
    return {
      stop: async () => {
        stopAll();
        this.watches.delete(stopAll);
      },
    };
  }

  async close(): Promise<void> {
    clearInterval(this.antiEntropy);
    for (const stop of this.watches) stop();
    this.watches.clear();
    await Promise.all([...this.publications].map((publication) => publication.close()));
    this.consul.destroy();
  }

  private async request(what: string, call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (error) {
      throw new BackendUnavailableError('consul', `${what} failed: ${consulErrorMessage(error)}`, error);
    }
  }
}
