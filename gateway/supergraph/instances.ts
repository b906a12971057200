/** The live set of healthy instances per subgraph, shared by the supergraph manager and data sources. */
import { EventEmitter } from 'node:events';
import type { ServiceInstance } from '../../shared/discovery';

export class InstanceDirectory extends EventEmitter {
  private byName = new Map<string, ServiceInstance[]>();

  replace(instances: ServiceInstance[]): void {
    const next = new Map<string, ServiceInstance[]>();
    for (const instance of instances) next.set(instance.name, [...(next.get(instance.name) ?? []), instance]);
    this.byName = next;
    this.emit('change', instances);
  }

  instancesOf(name: string): ServiceInstance[] {
    return this.byName.get(name) ?? [];
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  all(): ServiceInstance[] {
    return [...this.byName.values()].flat();
  }
}
