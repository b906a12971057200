import { buildSchema, parse, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { LimitExceededError, readCostDirectives, type CostDirectives } from '../../../../gateway/limits';
import { enforceOperationLimits, LIMIT_ATTRIBUTES, tracedOperationLimits, type OperationLimits } from '../../../../gateway/limits/operationLimits';
import { BARE_CHECKS, checkSpans } from '../../../../gateway/observability/checkSpans';
import { recordSpans } from '../../../support/recordedSpans';

const schema = buildSchema(`
  type Query { node: Node, nodes(first: Int): [Node!]!, accounts(first: Int): [Account!]!, shop: Shop }
  type Node { id: ID!, child: Node }
  type Shop { items(first: Int, last: Int): [Node!]! }
  interface Account { id: ID! }
  type User implements Account { id: ID!, friends(first: Int): [User!]! }
  type Admin implements Account { id: ID!, audits(first: Int): [Node!]! }
`);

const LIMITS: OperationLimits = { maxDepth: 4, maxIntrospectionDepth: 2, maxAliases: 3, maxRootFields: 3, maxDirectives: 2, maxCost: 100, defaultListSize: 10 };

const operationOf = (query: string) => {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
  return { document, operation };
};

/** The refusal's code, measured value, limit and message; undefined when the operation passes. */
const refusal = (query: string, limits: Partial<OperationLimits> = {}, options: { variables?: Record<string, unknown>; costDirectives?: CostDirectives; on?: GraphQLSchema } = {}) => {
  const { document, operation } = operationOf(query);
  try {
    enforceOperationLimits({ ...LIMITS, ...limits }, options.on ?? schema, document, operation, options.variables, options.costDirectives);
    return undefined;
  } catch (error) {
    if (!(error instanceof LimitExceededError)) throw error;
    return { name: error.name, code: error.code, measured: error.measured, limit: error.limit, message: error.message, retriable: error.retriable, extensions: error.extensions };
  }
};

const nest = (levels: number) => '{ ' + 'node { '.repeat(levels - 1) + 'id' + ' }'.repeat(levels - 1) + ' }';

describe('enforceOperationLimits', () => {
  it('passes a query exactly at the depth limit and refuses one level deeper', () => {
    expect(refusal(nest(4))).toBeUndefined();
    expect(refusal(nest(5))).toEqual({
      name: 'LimitExceededError',
      code: 'QUERY_TOO_DEEP',
      measured: 5,
      limit: 4,
      message: 'query depth 5 exceeds the limit of 4',
      retriable: false,
      extensions: { code: 'QUERY_TOO_DEEP', measured: 5, limit: 4, http: { status: 400 } },
    });
  });

  it('passes the root field limit and refuses one more, counting inline fragments at the root', () => {
    expect(refusal('{ a: shop { __typename } b: shop { __typename } c: shop { __typename } }', { maxAliases: 10 })).toBeUndefined();
    expect(refusal('{ a: shop { __typename } b: shop { __typename } c: shop { __typename } d: shop { __typename } }', { maxAliases: 10 })).toMatchObject({
      code: 'TOO_MANY_ROOT_FIELDS',
      measured: 4,
      limit: 3,
      message: '4 root fields exceed the limit of 3',
    });
    const hidden = Array.from({ length: 25 }, (_, i) => `f${i}: node { id }`).join(' ');
    expect(refusal(`{ ... { ${hidden} } }`, { maxAliases: 100, maxRootFields: 20, maxCost: 1000 })).toMatchObject({ code: 'TOO_MANY_ROOT_FIELDS', measured: 25, limit: 20 });
  });

  it('passes the alias limit and refuses one more', () => {
    expect(refusal('{ node { a: id b: id c: id } }')).toBeUndefined();
    expect(refusal('{ node { a: id b: id c: id d: id } }')).toMatchObject({ code: 'TOO_MANY_ALIASES', measured: 4, limit: 3, message: '4 aliases exceed the limit of 3' });
    expect(refusal('{ node { a: id } }', { maxAliases: 0 })).toMatchObject({ code: 'TOO_MANY_ALIASES', measured: 1, limit: 0 });
  });

  it('passes the directives-per-field limit and refuses one more', () => {
    expect(refusal('{ node @include(if: true) @skip(if: false) { id } }')).toBeUndefined();
    expect(refusal('{ node @include(if: true) @skip(if: false) @include(if: true) { id } }')).toMatchObject({
      code: 'TOO_MANY_DIRECTIVES',
      measured: 3,
      limit: 2,
      message: '3 directives on one field exceed the limit of 2',
    });
    expect(refusal('{ node { id @skip(if: false) } }', { maxDirectives: 0 })).toMatchObject({ code: 'TOO_MANY_DIRECTIVES', measured: 1, limit: 0 });
  });

  it('passes the introspection depth limit and refuses one more nested list', () => {
    expect(refusal('{ __type(name: "Node") { fields { type { fields { name } } } } }')).toBeUndefined();
    expect(refusal('{ __type(name: "Node") { fields { name } } }', { maxIntrospectionDepth: 1 })).toBeUndefined();
    expect(refusal('{ __type(name: "Node") { fields { type { fields { name } } } } }', { maxIntrospectionDepth: 1 })).toMatchObject({
      code: 'INTROSPECTION_TOO_DEEP',
      measured: 2,
      limit: 1,
      message: 'introspection nests 2 lists (fields, interfaces, possibleTypes, inputFields); the limit is 1',
    });
    // nine levels deep, three nested lists
    expect(refusal('{ __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }', { maxDepth: 100 })).toMatchObject({
      code: 'INTROSPECTION_TOO_DEEP',
      measured: 3,
      limit: 2,
    });
  });

  it('passes a query exactly at the cost limit and refuses one costing one more', () => {
    // 10 nodes × (1 + 9 ids) = 100; one more id costs 110
    expect(refusal('{ nodes { id a: id b: id c: id d: id e: id f: id g: id h: id } }', { maxAliases: 100 })).toBeUndefined();
    expect(refusal('{ nodes(first: 50) { id } }', { maxCost: 100 })).toBeUndefined();
    expect(refusal('{ nodes(first: 50) { id } node { id } }', { maxCost: 100 })).toMatchObject({
      code: 'QUERY_TOO_COSTLY',
      measured: 102,
      limit: 100,
      message: 'estimated cost 102 exceeds the limit of 100',
    });
    expect(refusal('query ($n: Int) { nodes(first: $n) { id } }', { maxCost: 100 }, { variables: { n: 51 } })).toMatchObject({ code: 'QUERY_TOO_COSTLY', measured: 102 });
    expect(refusal('{ nodes { id } }', { defaultListSize: 50 })).toBeUndefined();
    expect(refusal('{ nodes { id } }', { defaultListSize: 51 })).toMatchObject({ code: 'QUERY_TOO_COSTLY', measured: 102 });
  });

  it('refuses an operation that expands to more fields than the cost limit, however little it costs to resolve', () => {
    // __typename costs nothing to resolve, but each one is a field for whatever inlines the fragments
    const fanOut = (levels: number) =>
      `{ node { ...F0 } } ${Array.from({ length: levels }, (_, i) => `fragment F${i} on Node { ${i + 1 < levels ? `...F${i + 1} ... on Node { ...F${i + 1} }` : '__typename'} }`).join(' ')}`;
    // node + 2^6 __typename = 65 fields, cost 1
    expect(refusal(fanOut(7), { maxCost: 65 })).toBeUndefined();
    expect(refusal(fanOut(7), { maxCost: 64 })).toEqual(
      expect.objectContaining({ code: 'QUERY_TOO_COSTLY', measured: 65, limit: 64, message: '65 fields once fragments are inlined exceed the cost limit of 64' }),
    );
    expect(refusal(fanOut(133))).toMatchObject({ code: 'QUERY_TOO_COSTLY', measured: 1 + 2 ** 132 });
    // The cost is checked first: a costly fan-out says so.
    // 50 × (1 + 1) = 100 over 95, and 97 fields over 95 too
    expect(refusal(`{ nodes(first: 50) { id ${'__typename '.repeat(95)}} }`, { maxCost: 95 })).toMatchObject({ measured: 100, message: 'estimated cost 100 exceeds the limit of 95' });
    expect(refusal(`{ node { id ${'__typename '.repeat(94)}} }`, { maxCost: 95 })).toMatchObject({ measured: 96, message: '96 fields once fragments are inlined exceed the cost limit of 95' });
    expect(refusal(`{ node { id ${'__typename '.repeat(93)}} }`, { maxCost: 95 })).toBeUndefined();
  });

  it('passes an honest interface query that branches on concrete types (refused as QUERY_TOO_COSTLY before)', () => {
    // each Account is a User or an Admin: 5 × (1 + max(9 × 2, 9 × 2)) = 95, where adding both branches said 185
    const query = '{ accounts(first: 5) { ... on User { friends(first: 9) { id } } ... on Admin { audits(first: 9) { id } } } }';
    expect(refusal(query)).toBeUndefined();
    expect(refusal(query, { maxCost: 94 })).toMatchObject({ code: 'QUERY_TOO_COSTLY', measured: 95 });
  });

  it('reads @cost and @listSize from the supergraph', () => {
    const costDirectives = readCostDirectives(`
      type Query { nodes(first: Int): [Node!]! @listSize(assumedSize: 2, slicingArguments: ["first"], requireOneSlicingArgument: false) }
      type Node @cost(weight: 10) { id: ID! }
      type Shop { items(first: Int, last: Int): [Node!]! @listSize(slicingArguments: ["first", "last"]) }
    `);
    expect(refusal('{ nodes { id } }', {}, { costDirectives })).toBeUndefined();
    expect(refusal('{ nodes(first: 9) { id } }', {}, { costDirectives })).toBeUndefined();
    expect(refusal('{ nodes(first: 10) { id } }', {}, { costDirectives })).toMatchObject({ code: 'QUERY_TOO_COSTLY', measured: 110 });
    expect(refusal('{ shop { items { id } } }', {}, { costDirectives })).toEqual(
      expect.objectContaining({
        code: 'SLICING_ARGUMENT_REQUIRED',
        measured: 0,
        limit: 1,
        message: 'Shop.items needs exactly one of its slicing arguments (first, last); 0 given',
      }),
    );
    expect(refusal('{ shop { items(first: 1, last: 1) { id } } }', {}, { costDirectives })).toMatchObject({ code: 'SLICING_ARGUMENT_REQUIRED', measured: 2 });
    expect(refusal('{ shop { items(last: 2) { id } } }', {}, { costDirectives })).toBeUndefined();
  });

  it('checks the limits in order: depth, introspection, root fields, aliases, directives, slicing, cost', () => {
    const everything = '{ a: nodes(first: 99) { b: child { c: child { d: child { id @skip(if: false) @skip(if: false) @skip(if: false) } } } } e: node { id } f: node { id } g: node { id } }';
    expect(refusal(everything)?.code).toBe('QUERY_TOO_DEEP');
    expect(refusal(everything, { maxDepth: 10 })?.code).toBe('TOO_MANY_ROOT_FIELDS');
    expect(refusal(everything, { maxDepth: 10, maxRootFields: 10 })?.code).toBe('TOO_MANY_ALIASES');
    expect(refusal(everything, { maxDepth: 10, maxRootFields: 10, maxAliases: 10 })?.code).toBe('TOO_MANY_DIRECTIVES');
    expect(refusal(everything, { maxDepth: 10, maxRootFields: 10, maxAliases: 10, maxDirectives: 5 })?.code).toBe('QUERY_TOO_COSTLY');
    expect(refusal('{ __type(name: "Node") { fields { type { fields { type { fields { name } } } } } } a: node { id } b: node { id } c: node { id } d: node { id } }')?.code).toBe('INTROSPECTION_TOO_DEEP');
  });
});

describe('tracedOperationLimits', () => {
  const exporter = recordSpans();
  const query = '{ a: nodes(first: 2) { id } b: node { child { id } } }';

  it('runs the check in a gateway.limits span that records what the operation measured', () => {
    const { document, operation } = operationOf(query);
    const measure = tracedOperationLimits(checkSpans(true), LIMITS, schema, document, operation, undefined);
    expect(measure).toMatchObject({ depth: 3, aliases: 2, rootFields: 2, cost: 2 * 2 + 3 });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual(['gateway.limits']);
    expect(spans[0].attributes).toEqual({ [LIMIT_ATTRIBUTES.depth]: 3, [LIMIT_ATTRIBUTES.aliases]: 2, [LIMIT_ATTRIBUTES.rootFields]: 2, [LIMIT_ATTRIBUTES.cost]: 7 });
    expect(LIMIT_ATTRIBUTES).toEqual({ depth: 'trellis.limits.depth', aliases: 'trellis.limits.aliases', rootFields: 'trellis.limits.root_fields', cost: 'trellis.limits.cost' });
  });

  it('throws the refusal out of the span, and runs bare with tracing off', () => {
    const { document, operation } = operationOf(query);
    expect(() => tracedOperationLimits(checkSpans(true), { ...LIMITS, maxDepth: 2 }, schema, document, operation, undefined)).toThrow('query depth 3 exceeds the limit of 2');
    // the span says why, and records no measure of a refused operation
    expect(exporter.getFinishedSpans().map((span) => [span.name, span.attributes])).toEqual([['gateway.limits', { 'error.type': 'QUERY_TOO_DEEP' }]]);
    exporter.reset();
    expect(tracedOperationLimits(BARE_CHECKS, LIMITS, schema, document, operation, undefined).depth).toBe(3);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
