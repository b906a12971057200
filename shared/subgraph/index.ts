export { createSubgraph, Subgraph, type SubgraphOptions, type SubgraphRuntime } from './createSubgraph';
export { serveSubgraph, launchSubgraph, type ServeContext, type SubgraphFactory } from './serve';
export { anonymousIdentity, bearerIdentity, connectionParamsHeaders, type CallerIdentity, type IdentityResolver, type HeaderReader, type SubgraphContext } from './context';
export { tracedEvent, type EventTrace } from './eventTraces';
export { requestLoader, type RequestLoader, type RequestLoaderOptions, type BatchRead } from './requestLoader';
export { peerSubgraphs, type PeerSubgraphs, type PeerSubgraphsOptions, type PeerAnswer } from './peers';
