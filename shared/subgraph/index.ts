export { createSubgraph, Subgraph, type SubgraphOptions, type SubgraphRuntime } from './createSubgraph';
export { serveSubgraph, type ServeContext } from './serve';
export { userIdHeaderIdentity, type CallerIdentity, type IdentityResolver, type SubgraphContext } from './context';
