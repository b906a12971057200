/**
 * The catalogue of hostile inputs: each a request an attacker can send anonymously, with the code
 * it must be refused with. One list for every boundary that takes GraphQL (the gateway on HTTP,
 * graphql-ws and SSE; a subgraph's own port), built for a target schema and a set of limits, so
 * each test sends the same attacks and checks the same codes.
 *
 * ```ts
 * for (const input of hostileInputs()) { ... send input.request, expect input.code ... }
 * ```
 */

/** Where the attacks aim: a few names of the schema under attack. */
export interface HostileTarget {
  /** A root field returning a list of objects, taking no required argument (`users`). */
  listField: string;
  /** Its object type, for fragments' type conditions (`User`). */
  type: string;
  /** A scalar field of that type that anyone may read (`name`). */
  leaf: string;
  /**
   * A path from the type back to itself, for nesting without end (`orders { user {` and `} }`
   * on the example platform); without one there is no depth attack to send.
   */
  cycle?: { open: string; close: string };
}

/** The limits the target runs with (the gateway's defaults unless told). */
export interface HostileLimits {
  maxTokens: number;
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxBatch: number;
  maxBodyBytes: number;
}

/** The example platform (users, orders, catalog subgraphs) behind a gateway. */
export const EXAMPLE_TARGET: HostileTarget = { listField: 'users', type: 'User', leaf: 'name', cycle: { open: 'orders { user {', close: '} }' } };

/** The defaults of shared/config (MAX_TOKENS, MAX_QUERY_DEPTH, MAX_ALIASES, MAX_DIRECTIVES, MAX_BATCH, MAX_BODY_BYTES). */
export const DEFAULT_LIMITS: HostileLimits = { maxTokens: 2000, maxDepth: 12, maxAliases: 30, maxDirectives: 10, maxBatch: 10, maxBodyBytes: 1024 * 1024 };

export interface HostileOperation {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

export interface HostileInput {
  name: string;
  /** One operation (every transport), or a batch: a JSON array body, which only HTTP takes. */
  request: HostileOperation | HostileOperation[];
  /** `extensions.code` of the refusal. */
  code: string;
  /** HTTP status of the refusal on HTTP. */
  httpStatus: number;
  /**
   * Set when the request is larger than a WebSocket message may be: graphql-ws then closes the
   * socket with this code (1009, Message Too Big) before reading it, instead of an error message.
   */
  webSocketClose?: number;
}

/** Fragments F0…F(levels-1) on `type`, each spreading the next twice (once inside an inline fragment): 2^levels paths to the leaf. */
export function fragmentFanOut(levels: number, target: HostileTarget = EXAMPLE_TARGET, leaf = target.leaf): string {
  const fragments = Array.from({ length: levels }, (_, i) =>
    i + 1 < levels ? `fragment F${i} on ${target.type} { ...F${i + 1} ... on ${target.type} { ...F${i + 1} } }` : `fragment F${i} on ${target.type} { ${leaf} }`,
  );
  return `${fragments.join('\n')}\n{ ${target.listField} { ...F0 } }`;
}

/** Tokens of `fragmentFanOut(levels)`: 15 a level but the last (6), and the operation's 7. */
function fanOutTokens(levels: number): number {
  return 15 * (levels - 1) + 6 + 7;
}

/** The deepest fragment fan-out whose document stays within `maxTokens`. */
export function deepestFanOut(maxTokens: number): number {
  let levels = 1;
  while (fanOutTokens(levels + 1) <= maxTokens) levels++;
  return levels;
}

/** A normal query to send alongside the attacks: it must still be answered, and fast. */
export function normalQuery(target: HostileTarget = EXAMPLE_TARGET): HostileOperation {
  return { query: `{ ${target.listField} { ${target.leaf} } }` };
}

export function hostileInputs(target: HostileTarget = EXAMPLE_TARGET, limits: HostileLimits = DEFAULT_LIMITS): HostileInput[] {
  const { listField, type, leaf } = target;
  const within = (tokensEach: number, fixed = 6) => Math.floor((limits.maxTokens - fixed) / tokensEach);
  const padding = 'x'.repeat(limits.maxBodyBytes + 1024);
  const inputs: HostileInput[] = [];
  if (target.cycle) {
    const levels = limits.maxDepth + 8;
    inputs.push({
      name: 'excessive depth',
      request: { query: `{ ${listField} { ${`${target.cycle.open} `.repeat(levels)}${leaf}${` ${target.cycle.close}`.repeat(levels)} } }` },
      code: 'QUERY_TOO_DEEP',
      httpStatus: 400,
    });
  }
  inputs.push(
    {
      name: 'aliases',
      request: { query: `{ ${listField} { ${Array.from({ length: Math.min(limits.maxAliases * 10, within(3)) }, (_, i) => `a${i}: ${leaf}`).join(' ')} } }` },
      code: 'TOO_MANY_ALIASES',
      httpStatus: 400,
    },
    {
      // Every field the token limit lets through, all the same: quadratic to check for overlaps, so
      // graphql-js's validation stops at its budget (OverlappingFieldsCanBeMerged) and refuses it.
      name: 'repeated fields',
      request: { query: `{ ${listField} { ${`${leaf} `.repeat(within(1))}} }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
      httpStatus: 400,
    },
    {
      name: 'repeated __typename',
      request: { query: `{ ${listField} { ${'__typename '.repeat(within(1))}} }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
      httpStatus: 400,
    },
    {
      name: 'too many tokens',
      request: { query: `{ ${listField} { ${`${leaf} `.repeat(limits.maxTokens)}} }` },
      code: 'TOO_MANY_TOKENS',
      httpStatus: 400,
    },
    {
      name: 'fragment cycle',
      request: { query: `{ ${listField} { ...A } } fragment A on ${type} { ${leaf} ...B } fragment B on ${type} { ...A }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
      httpStatus: 400,
    },
    { name: 'fragment fan-out, 19 levels', request: { query: fragmentFanOut(19, target) }, code: 'QUERY_TOO_COSTLY', httpStatus: 400 },
    { name: 'fragment fan-out, 30 levels', request: { query: fragmentFanOut(30, target) }, code: 'QUERY_TOO_COSTLY', httpStatus: 400 },
    {
      name: `fragment fan-out, ${deepestFanOut(limits.maxTokens)} levels (the most MAX_TOKENS lets through)`,
      request: { query: fragmentFanOut(deepestFanOut(limits.maxTokens), target) },
      code: 'QUERY_TOO_COSTLY',
      httpStatus: 400,
    },
    {
      // Nothing in it costs anything to resolve: its fields once inlined are what the limit counts.
      name: 'fragment fan-out of __typename',
      request: { query: fragmentFanOut(deepestFanOut(limits.maxTokens), target, '__typename') },
      code: 'QUERY_TOO_COSTLY',
      httpStatus: 400,
    },
    {
      // The built-in directives cannot repeat on one field, so validation refuses a flood before the limit sees it.
      name: 'directive flood',
      request: { query: `{ ${listField} { ${leaf} ${'@include(if: true) '.repeat(Math.min(limits.maxDirectives * 20, within(6)))}} }` },
      code: 'GRAPHQL_VALIDATION_FAILED',
      httpStatus: 400,
    },
    {
      name: 'oversized body',
      request: { query: `{ ${listField} { ${leaf} } } # ${padding}` },
      code: 'PAYLOAD_TOO_LARGE',
      httpStatus: 413,
      webSocketClose: 1009,
    },
    {
      name: 'oversized variables',
      request: { query: `query ($pad: String) { ${listField} { ${leaf} } }`, variables: { pad: padding } },
      code: 'PAYLOAD_TOO_LARGE',
      httpStatus: 413,
      webSocketClose: 1009,
    },
    {
      name: 'cyclic introspection',
      request: { query: '{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }' },
      code: 'INTROSPECTION_TOO_DEEP',
      httpStatus: 400,
    },
    {
      name: 'batch over MAX_BATCH',
      request: Array.from({ length: limits.maxBatch * 10 }, () => normalQuery(target)),
      code: 'BATCH_TOO_LARGE',
      httpStatus: 400,
    },
    {
      // Each a little over the alias limit and cheap: the batch passes its own check, and each operation is refused on its own.
      name: 'batch of alias bombs',
      request: Array.from({ length: limits.maxBatch }, () => ({
        query: `{ ${listField} { ${Array.from({ length: limits.maxAliases + 1 }, (_, i) => `a${i}: ${leaf}`).join(' ')} } }`,
      })),
      code: 'TOO_MANY_ALIASES',
      httpStatus: 400,
    },
    {
      // Cheap to resolve, but their fields once inlined add up past the batch's limit.
      name: 'batch of __typename fan-outs',
      request: Array.from({ length: limits.maxBatch }, () => ({ query: fragmentFanOut(deepestFanOut(limits.maxTokens), target, '__typename') })),
      code: 'QUERY_TOO_COSTLY',
      httpStatus: 400,
    },
    {
      name: 'batch of fan-outs',
      request: Array.from({ length: limits.maxBatch }, () => ({ query: fragmentFanOut(30, target) })),
      code: 'QUERY_TOO_COSTLY',
      httpStatus: 400,
    },
  );
  return inputs;
}

/** Whether the input is a batch (HTTP only). */
export function isBatch(input: HostileInput): input is HostileInput & { request: HostileOperation[] } {
  return Array.isArray(input.request);
}
