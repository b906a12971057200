/** The discovery port: where subgraph instances announce themselves and the gateway finds them. */

/** Tag every Trellis subgraph carries, so the gateway can tell subgraphs from other services. */
export const SUBGRAPH_TAG = 'trellis-subgraph';

/**
 * Meta a subgraph instance registers: a digest of the schema it serves, changed by any change of
 * it, so the gateway fetches a redeployed instance's SDL again even on the same host and port.
 */
export const SCHEMA_REVISION_META = 'schema_revision';

export interface ServiceRegistration {
  /** Unique per instance, stable for its lifetime (e.g. `catalog-127.0.0.1-4002`). */
  id: string;
  /** Logical subgraph name; instances with one name serve the same schema. */
  name: string;
  /** Full URL of the instance's GraphQL endpoint. */
  url: string;
  /** URL that answers 2xx while the instance can take traffic. */
  healthUrl: string;
  /** Free-form settings, e.g. per-subgraph breaker overrides (`breaker.timeoutMs`). */
  meta?: Record<string, string>;
}

export interface ServiceInstance {
  id: string;
  name: string;
  url: string;
  meta: Record<string, string>;
  /** Passing its readiness check now. Traffic goes only to healthy instances. */
  healthy: boolean;
}

export interface Watch {
  stop(): Promise<void>;
}

export interface Discovery {
  register(registration: ServiceRegistration): Promise<void>;
  deregister(id: string): Promise<void>;
  /**
   * Calls `onChange` with every registered subgraph instance and its health, once as soon as it
   * is known and again after every change. An instance that deregisters leaves the set; one that
   * fails its check stays, unhealthy, until it passes again or has been critical long enough to
   * be deregistered (a crash). While the backend is unreachable the last known set stands.
   */
  watch(onChange: (instances: ServiceInstance[]) => void): Promise<Watch>;
  close(): Promise<void>;
}

/** Sorted by name then id, so two reports of one set compare equal. */
export function sortInstances(instances: ServiceInstance[]): ServiceInstance[] {
  return [...instances].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/**
 * Where calls to a subgraph go: its healthy instances or, when none is, every one given (panic routing, as Envoy's).
 * A readiness check that missed its timeout on a busy host, or a Consul agent that cannot reach the instances, does
 * not make them dead, and refusing every call on that word alone turns a slow moment into an outage; a dead instance
 * refuses the connection, which the caller's retry, outlier ejection and breaker act on.
 */
export function routableInstances(instances: ServiceInstance[]): ServiceInstance[] {
  const healthy = instances.filter((instance) => instance.healthy);
  return healthy.length > 0 ? healthy : instances;
}

export function sameInstances(a: ServiceInstance[], b: ServiceInstance[]): boolean {
  return JSON.stringify(sortInstances(a)) === JSON.stringify(sortInstances(b));
}

/** A supergraph as the composing gateway published it, for every gateway to serve. */
export interface PublishedSupergraph {
  /** sha256 (hex) of `sdl`; a reader checks it. */
  hash: string;
  sdl: string;
  composedAt: string;
  /** The gateway that composed it. */
  by: string;
  /** The subgraph names it composes. */
  subgraphs: string[];
}

/** What a reader of the published supergraph hears. */
export interface PublicationListener {
  onPublished(supergraph: PublishedSupergraph): void;
  /** The store answered a read (it may be unchanged): what is served is current as of now. */
  onRead(): void;
  /** The store stopped answering: the last supergraph read stands meanwhile. */
  onUnreachable(): void;
}

/**
 * One composer for many gateways: a lock elects the gateway that composes, which publishes the
 * supergraph by hash; every gateway follows what is published. Consul's sessions and KV back it
 * (consulPublication.ts); the embedded ports have none, and each gateway composes on its own.
 */
export interface SupergraphPublication {
  /** Campaigns for the composer lock as `holder` until stopped; `onLeading` hears each gain and loss. */
  campaign(holder: string, onLeading: (leading: boolean) => void): Promise<Watch>;
  /** Publishes while this process holds the lock; false when it does not (a lost lock never overwrites). */
  publish(supergraph: PublishedSupergraph): Promise<boolean>;
  follow(listener: PublicationListener): Promise<Watch>;
}
