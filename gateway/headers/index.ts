/**
 * Per-subgraph header rules (HEADER_RULES, shaped like Apollo Router's `headers`): propagate
 * (named, rename, default), remove and insert, for `all` subgraphs and then for each by name.
 *
 * ```ts
 * const headers = new SubgraphHeaders(config.gateway.headerRules);
 * headers.forSubgraph('catalog', headers.capture((name) => req.header(name)), correlationId);
 * ```
 */
export { SubgraphHeaders } from './subgraphHeaders';
