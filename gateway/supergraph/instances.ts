/** The live set of healthy instances per subgraph, shared by the supergraph manager and data sources. */
import { EventEmitter } from 'node:events';
import type { ServiceInstance } from '@trellis/kit';

export class InstanceDirectory extends EventEmitter {
  private byName = new Map<string, ServiceInstance[]>();

  replace(instances: ServiceInstance[]): void {
    const next = new Map<string, ServiceInstance[]>();
    for (const instance of instances) next.set(instance.name, [...(next.get(instance.name) ?? []), instance]);
    this.byName = next;
    this.emit('change', instances);
  }

  /** The healthy instances of a subgraph: where traffic may go. */
  instancesOf(name: string): ServiceInstance[] {
    return (this.byName.get(name) ?? []).filter((instance) => instance.healthy);
  }

  /**
   * Where a subgraph's fetches go: its healthy instances or, when none is, every registered one (panic routing, as
   * Envoy's). A readiness check that missed its timeout on a busy host, or a Consul agent that cannot reach the
   * instances, does not make them dead, and failing every fetch on that word alone turns a slow moment into an outage.
   * A dead instance refuses the connection (or times out), which the retry, outlier ejection and breaker act on.
   */
  routableOf(name: string): ServiceInstance[] {
    const registered = this.byName.get(name) ?? [];
    const healthy = registered.filter((instance) => instance.healthy);
    return healthy.length > 0 ? healthy : registered;
  }

  /** Every registered instance of a subgraph, healthy or not. */
  registeredOf(name: string): ServiceInstance[] {
    return this.byName.get(name) ?? [];
  }

  /** Names of every registered subgraph: a subgraph with no healthy instance stays in the schema. */
  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  all(): ServiceInstance[] {
    return [...this.byName.values()].flat();
  }
}
