import { buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import type { Request, Response } from 'express';
import { loadConfig } from '@trellis/kit';
import { limits } from '../../../../gateway/limits';
import type { GatewayHost } from '../../../../gateway/extension';

const supergraph = 'type Query { nodes(first: Int): [Node!]! @listSize(slicingArguments: ["first"]) } type Node @cost(weight: 100) { id: ID! }';
const schema = buildSchema('type Query { nodes(first: Int): [Node!]! } type Node { id: ID! }');

/** The extension attached to a gateway that has loaded `supergraph`. */
const attached = () => {
  const extension = limits(loadConfig({}).limits);
  let listener: ((update: { apiSchema: typeof schema; coreSupergraphSdl: string }) => void) | undefined;
  const host = { gateway: { onSchemaLoadOrUpdate: (callback: typeof listener) => (listener = callback) } } as unknown as GatewayHost;
  void extension.attach!({} as never, host);
  return { extension, load: (sdl: string) => listener!({ apiSchema: schema, coreSupergraphSdl: sdl }) };
};

const check = (extension: ReturnType<typeof limits>, query: string) => {
  const document = parse(query);
  const operation = document.definitions[0] as OperationDefinitionNode;
  return () => extension.checkOperation!({ source: query, schema, document, operation, context: {} as never });
};

describe('limits extension', () => {
  it('refuses by the supergraph`s @cost and @listSize once the gateway has loaded it, on every transport', () => {
    const { extension, load } = attached();
    expect(check(extension, '{ nodes(first: 60) { id } }')).not.toThrow();
    load(supergraph);
    // 60 × (100 + 1) = 6060 over the default limit of 5000
    expect(check(extension, '{ nodes(first: 60) { id } }')).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COSTLY', measured: 6060 }) }));
    expect(check(extension, '{ nodes { id } }')).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'SLICING_ARGUMENT_REQUIRED' }) }));
    // a supergraph that does not parse keeps the directives read before
    load('type Query {');
    expect(check(extension, '{ nodes(first: 60) { id } }')).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COSTLY' }) }));
  });

  it('adds a batch`s costs with the loaded schema and directives', () => {
    const { extension, load } = attached();
    const [middleware] = extension.graphqlMiddleware!;
    const batch = [{ query: '{ nodes(first: 30) { id } }' }, { query: '{ nodes(first: 30) { id } }' }];
    let passed = 0;
    let status: number | undefined;
    const res = { locals: { graphqlMediaType: 'application/graphql-response+json' }, status: (code: number) => ((status = code), res), json: () => res } as unknown as Response;
    middleware!({ body: batch } as Request, res, () => passed++);
    expect(passed).toBe(1);
    load(supergraph);
    middleware!({ body: batch } as Request, res, () => passed++);
    // each 30 × 101 = 3030 passes alone; together 6060 do not
    expect(passed).toBe(1);
    expect(status).toBe(400);
  });

  it('formats both parser and validation refusals as limit codes', () => {
    const { extension } = attached();
    const format = (message: string, code: string) => extension.formatError!({ message, extensions: { code } }, undefined).extensions?.code;
    expect(format('Syntax Error: Document contains more that 2000 tokens. Parsing aborted.', 'GRAPHQL_PARSE_FAILED')).toBe('TOO_MANY_TOKENS');
    expect(format('Maximum introspection depth exceeded', 'GRAPHQL_VALIDATION_FAILED')).toBe('INTROSPECTION_TOO_DEEP');
    expect(format('Cannot query field "x" on type "Query".', 'GRAPHQL_VALIDATION_FAILED')).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('limit defaults and settings', () => {
  it('defaults every limit', () => {
    expect(loadConfig({}).limits).toEqual({
      maxDepth: 12,
      maxIntrospectionDepth: 2,
      maxAliases: 30,
      maxRootFields: 20,
      maxDirectives: 10,
      maxTokens: 2000,
      maxCost: 5000,
      defaultListSize: 10,
      maxBatch: 10,
      maxBodyBytes: 1048576,
    });
  });

  it('reads the new variables and refuses a value that could never take effect, naming the variable', () => {
    expect(loadConfig({ MAX_INTROSPECTION_DEPTH: '1', MAX_DIRECTIVES: '3' }).limits).toMatchObject({ maxIntrospectionDepth: 1, maxDirectives: 3 });
    expect(loadConfig({ MAX_INTROSPECTION_DEPTH: '0', MAX_DIRECTIVES: '0' }).limits).toMatchObject({ maxIntrospectionDepth: 0, maxDirectives: 0 });
    expect(() => loadConfig({ MAX_INTROSPECTION_DEPTH: '3' })).toThrow(/MAX_INTROSPECTION_DEPTH/);
    expect(() => loadConfig({ MAX_INTROSPECTION_DEPTH: '-1' })).toThrow(/MAX_INTROSPECTION_DEPTH/);
    expect(() => loadConfig({ MAX_DIRECTIVES: '-1' })).toThrow(/MAX_DIRECTIVES/);
    expect(() => loadConfig({ MAX_DIRECTIVES: '1.5' })).toThrow(/MAX_DIRECTIVES/);
  });
});
