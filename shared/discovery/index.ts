export * from './types';
export { InMemoryDiscovery, httpHealthCheck, type InMemoryDiscoveryOptions, type HealthCheck } from './memory';
export { ConsulDiscovery, type ConsulDiscoveryOptions } from './consul';
export { parseAllowList, type SubgraphAllowList } from './allowList';
