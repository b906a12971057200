/** The federation spec version every example subgraph links to. */
export const FEDERATION_LINK = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@authenticated", "@requiresScopes"])`;

/**
 * Apollo's `@cacheControl`, declared in every example subgraph that says how long its answers may
 * be kept: Apollo Server turns it into each answer's Cache-Control, which the gateway's entity
 * cache (ENTITY_CACHE) and its own Cache-Control follow.
 */
export const CACHE_CONTROL = `
  enum CacheControlScope { PUBLIC PRIVATE }
  directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
`;
