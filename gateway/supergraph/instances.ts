/** The live set of healthy instances per subgraph, shared by the supergraph manager and data sources. */
import { EventEmitter } from 'node:events';
import type { ServiceInstance } from '@trellis/kit';
import { routableInstances } from '@trellis/kit/internal/discovery';

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

  /** Where a subgraph's fetches go: its healthy instances or, when none is, every registered one (`routableInstances`). */
  routableOf(name: string): ServiceInstance[] {
    return routableInstances(this.registeredOf(name));
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
