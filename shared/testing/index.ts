/**
 * `@trellis/kit/testing`: what a subgraph team's own tests need, with no test framework in it: the
 * in-memory backends, a clock moved by hand, a token issuer, and a running-subgraph harness.
 */
export { InMemoryStateStore, type InMemoryStateStoreOptions } from '../state';
export { InMemoryEventBus, type InMemoryEventBusOptions } from '../events';
export { InMemoryDiscovery, type InMemoryDiscoveryOptions } from '../discovery';
export { ManualClock } from './manualClock';
export { freePort } from './ports';
export { startTestIdentity, type TestIdentity } from './identity';
export { startTestSubgraph } from './subgraph';
