export * from './types';
export { InMemoryDiscovery, httpHealthCheck, type InMemoryDiscoveryOptions, type HealthCheck } from './memory';
export { ConsulDiscovery, type ConsulDiscoveryOptions } from './consul';
export type { ConsulPublicationOptions } from './consulPublication';
export { parseAllowList, type SubgraphAllowList } from './allowList';
import type { Discovery, SupergraphPublication } from './types';
import { ConsulDiscovery } from './consul';
import type { ConsulPublicationOptions } from './consulPublication';

/** The published-supergraph store behind a discovery port: Consul has one; the embedded ports and the dev hub do not. */
export function supergraphPublicationOf(discovery: Discovery, settings?: Omit<ConsulPublicationOptions, 'consul' | 'logger'>): SupergraphPublication | undefined {
  return discovery instanceof ConsulDiscovery ? discovery.supergraphPublication(settings) : undefined;
}
