/** Topic and group names on the broker: the bus's namespace in front, so platforms can share a cluster. */
export interface Namespaced {
  onBroker(name: string): string;
  offBroker(name: string): string;
}

export function namespaced(namespace = ''): Namespaced {
  return {
    onBroker: (name) => namespace + name,
    offBroker: (name) => (name.startsWith(namespace) ? name.slice(namespace.length) : name),
  };
}
