export * from './types';
export { InMemoryDiscovery, httpHealthCheck, type InMemoryDiscoveryOptions, type HealthCheck } from './memory';
