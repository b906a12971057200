/**
 * The @defer runner through the FederatedExecutor, on a real Apollo Gateway over in-process
 * subgraphs (LocalGraphQLDataSource), with the gateway's real check pipeline (limits, auth,
 * planning): what each part holds and where, in both wire formats, and that the parts merged give
 * the answer of the same query without @defer.
 */
import { parse, type DocumentNode, type GraphQLError } from 'graphql';
import { Defer20220824Handler, GraphQL17Alpha9Handler } from '@apollo/client/incremental';
import { ApolloGateway, LocalGraphQLDataSource, type GraphQLDataSource } from '@apollo/gateway';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { createLogger } from '@trellis/kit';
import { loadConfig } from '@trellis/kit/internal/config';
import { composeSupergraph } from '../../../../gateway/supergraph/compose';
import { liftEnforcedSecurityFeatures } from '../../../../gateway/auth/securityFeatures';
import { FederatedExecutor } from '../../../../gateway/subscriptions/federatedExecutor';
import {
  admitDefer,
  deferSpec20220824,
  incrementalSpecV02,
  type IncrementalPayload,
} from '../../../../gateway/incremental';
import { runChecks } from '../../../../gateway/checkPipeline';
import { limits } from '../../../../gateway/limits';
import { auth } from '../../../../gateway/auth';
import { planning } from '../../../../gateway/planning';
import { SubgraphUnavailableError } from '../../../../gateway/datasource/errors';
import type { GatewayContext } from '../../../../gateway/context';
import type { GatewayHost } from '../../../../gateway/extension';
import type { InstanceDirectory } from '../../../../gateway/supergraph/instances';

const link =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@requiresScopes"])';
const subgraphs: Array<{ name: string; typeDefs: string; resolvers: GraphQLResolverMap<unknown> }> = [
  {
    name: 'products',
    typeDefs: `${link}
      type Query { product(id: ID!): Product products: [Product!]! search: [Result!]! }
      union Result = Product | Book
      type Book { title: String! }
      type Product @key(fields: "id") { id: ID! name: String! }`,
    resolvers: {
      Query: {
        product: (_: unknown, { id }: { id: string }) => ({ id, name: `Product ${id}` }),
        products: () => [1, 2].map((n) => ({ id: `p${n}`, name: `Product p${n}` })),
        search: () => [
          { __typename: 'Book', title: 'Dune' },
          { __typename: 'Product', id: 'p1', name: 'Product p1' },
        ],
      },
      Result: { __resolveType: (value: { __typename: string }) => value.__typename },
      Product: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: `Product ${ref.id}` }) },
    } as GraphQLResolverMap<unknown>,
  },
  {
    name: 'reviews',
    typeDefs: `${link}
      type Product @key(fields: "id") { id: ID! reviews: [Review!]! }
      type Review { body: String! author: User! }
      type User @key(fields: "id", resolvable: false) { id: ID! }`,
    resolvers: {
      Product: {
        reviews: (p: { id: string }) => [1, 2].map((n) => ({ body: `${p.id} review ${n}`, author: { id: `u${n}` } })),
      },
    },
  },
  {
    name: 'users',
    typeDefs: `${link}
      type User @key(fields: "id") { id: ID! name: String! email: String @requiresScopes(scopes: [["users:email"]]) }`,
    resolvers: {
      User: {
        __resolveReference: (ref: { id: string }) => ({
          id: ref.id,
          name: `User ${ref.id}`,
          email: `${ref.id}@example.com`,
        }),
      },
    },
  },
  {
    name: 'inventory',
    typeDefs: `${link}
      type Product @key(fields: "id") { id: ID! stock: Int! warehouse: String }`,
    resolvers: {
      Product: {
        stock: (p: { id: string }) => Number(p.id.slice(1)) * 10,
        warehouse: (p: { id: string }) => {
          if (p.id === 'p2') throw new Error('warehouse p2 is closed');
          return `W-${p.id}`;
        },
      },
    },
  },
];

describe('@defer parts through the FederatedExecutor', () => {
  let gateway: ApolloGateway;
  let executor: FederatedExecutor;
  let inventoryDown = false;

  beforeAll(async () => {
    const composed = composeSupergraph(
      subgraphs.map(({ name, typeDefs }) => ({ name, sdl: typeDefs, url: `http://${name}.invalid/graphql` })),
    );
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    const sources: Record<string, GraphQLDataSource> = {};
    for (const { name, typeDefs, resolvers } of subgraphs)
      sources[name] = new LocalGraphQLDataSource(buildSubgraphSchema([{ typeDefs: parse(typeDefs), resolvers }]));
    const inventory = sources.inventory!;
    // The inventory's breaker, when open, fails every fetch fast with this error (gateway/datasource).
    sources.inventory = {
      process: (options) =>
        inventoryDown
          ? Promise.reject(new SubgraphUnavailableError('inventory', 'breaker_open'))
          : inventory.process(options),
    };
    gateway = new ApolloGateway({
      supergraphSdl: liftEnforcedSecurityFeatures(composed.supergraphSdl),
      buildService: ({ name }) => sources[name]!,
    });
    admitDefer(gateway);
    const logger = createLogger({ service: 'test', level: 'silent' });
    const extensions = [
      limits(loadConfig({ MAX_ALIASES: '2' }).limits, logger),
      auth({ logger }),
      planning({ logger }),
    ];
    const host = { gateway } as GatewayHost;
    for (const extension of extensions) extension.attach?.(undefined as never, host);
    await gateway.load();
    executor = new FederatedExecutor(gateway, {} as InstanceDirectory, (check) => runChecks(extensions, check));
  });

  afterAll(() => gateway.stop());
  afterEach(() => (inventoryDown = false));

  const context = (): GatewayContext =>
    ({
      correlationId: 'c1',
      forwardHeaders: {},
      user: null,
      logger: createLogger({ service: 'test', level: 'silent' }),
    }) as GatewayContext;

  const payloads = async (query: string, variables?: Record<string, unknown>) => {
    const all: IncrementalPayload[] = [];
    for await (const payload of executor.executeIncremental({ query, variables }, context())) all.push(payload);
    return all;
  };
  const format = (errors?: readonly GraphQLError[]) => errors?.map((error) => error.toJSON());
  const wire = async (query: string, variables?: Record<string, unknown>) => {
    const all = await payloads(query, variables);
    return {
      apollo: all.map((p) => deferSpec20220824(p, format)),
      v02: all.map((p) => incrementalSpecV02(p, format)),
    };
  };
  const whole = async (query: string, variables?: Record<string, unknown>) => {
    const results = [];
    for await (const result of executor.execute(
      { query: query.replace(/@defer(\([^)]*\))?/g, ''), variables },
      context(),
    ))
      results.push(result);
    return JSON.parse(JSON.stringify(results[0]));
  };

  it('nested defers in lists: the primary, then each review list per product, then each author per review, merging to the whole answer', async () => {
    const query =
      '{ products { id ... @defer(label: "reviews") { reviews { body ... @defer(label: "author") { author { name } } } } } }';
    const { apollo, v02 } = await wire(query);
    expect(apollo[0]).toEqual({ data: { products: [{ id: 'p1' }, { id: 'p2' }] }, hasNext: true });
    expect(v02[0]).toEqual({
      data: { products: [{ id: 'p1' }, { id: 'p2' }] },
      pending: [
        { id: '0', path: ['products', 0], label: 'reviews' },
        { id: '1', path: ['products', 1], label: 'reviews' },
      ],
      hasNext: true,
    });
    // The review lists come together (one fetch for both products), then the four authors.
    expect(apollo[1]).toEqual({
      incremental: [
        {
          data: { reviews: [{ body: 'p1 review 1' }, { body: 'p1 review 2' }] },
          path: ['products', 0],
          label: 'reviews',
        },
        {
          data: { reviews: [{ body: 'p2 review 1' }, { body: 'p2 review 2' }] },
          path: ['products', 1],
          label: 'reviews',
        },
      ],
      hasNext: true,
    });
    expect(v02[1]).toMatchObject({
      completed: [{ id: '0' }, { id: '1' }],
      pending: [{ id: '2', path: ['products', 0, 'reviews', 0], label: 'author' }, {}, {}, {}],
      hasNext: true,
    });
    expect(apollo[2]).toEqual({
      incremental: [
        { data: { author: { name: 'User u1' } }, path: ['products', 0, 'reviews', 0], label: 'author' },
        { data: { author: { name: 'User u2' } }, path: ['products', 0, 'reviews', 1], label: 'author' },
        { data: { author: { name: 'User u1' } }, path: ['products', 1, 'reviews', 0], label: 'author' },
        { data: { author: { name: 'User u2' } }, path: ['products', 1, 'reviews', 1], label: 'author' },
      ],
      hasNext: false,
    });
    expect(apollo).toHaveLength(3);
    expect(merged(apollo)).toEqual(await whole(query));
  });

  it("Apollo Client 4's handlers read both formats into the answer of the same query without @defer", async () => {
    // Labelled throughout, as Apollo Client sends a deferred query (its document transform labels every @defer).
    const query =
      '{ products { id ... @defer(label: "r") { reviews { body ... @defer(label: "a") { author { name } } } } } search { ... on Product { ... @defer(label: "s") { stock } } } }';
    const { apollo, v02 } = await wire(query);
    const expected = await whole(query);
    const handlers: Array<
      [
        {
          startRequest: (opts: { query: DocumentNode }) => {
            handle(data: undefined, chunk: never): unknown;
            hasNext: boolean;
          };
        },
        unknown[],
      ]
    > = [
      [new Defer20220824Handler(), apollo],
      [new GraphQL17Alpha9Handler(), v02],
    ];
    for (const [handler, chunks] of handlers) {
      const request = handler.startRequest({ query: parse(query) });
      let last: unknown;
      for (const chunk of chunks) last = request.handle(undefined, chunk as never);
      expect(last).toEqual(expected);
      expect(request.hasNext).toBe(false);
    }
  });

  it('@defer(if: false) and if: $var false deliver everything in the primary; if: $var true defers', async () => {
    const query = 'query Q($later: Boolean!) { product(id: "p1") { name ... @defer(if: $later) { stock } } }';
    expect((await wire(query, { later: false })).apollo).toEqual([
      { data: { product: { name: 'Product p1', stock: 10 } }, hasNext: false },
    ]);
    expect((await wire('{ product(id: "p1") { name ... @defer(if: false) { stock } } }')).v02).toEqual([
      { data: { product: { name: 'Product p1', stock: 10 } }, hasNext: false },
    ]);
    expect((await wire(query, { later: true })).apollo).toEqual([
      { data: { product: { name: 'Product p1' } }, hasNext: true },
      { incremental: [{ data: { stock: 10 }, path: ['product'] }], hasNext: false },
    ]);
  });

  it('a deferred named fragment keeps its label; an unlabeled defer has none', async () => {
    const query =
      'query { product(id: "p2") { name ...Stock @defer(label: "stock") ... @defer { reviews { body } } } } fragment Stock on Product { stock }';
    const { apollo } = await wire(query);
    expect(apollo[0]).toEqual({ data: { product: { name: 'Product p2' } }, hasNext: true });
    const incremental = apollo.slice(1).flatMap((p) => (p as { incremental: unknown[] }).incremental);
    expect(incremental).toEqual(
      expect.arrayContaining([
        { data: { stock: 20 }, path: ['product'], label: 'stock' },
        { data: { reviews: [{ body: 'p2 review 1' }, { body: 'p2 review 2' }] }, path: ['product'] },
      ]),
    );
    expect(merged(apollo)).toEqual(await whole(query));
  });

  it('a defer on root fields: its part has the empty path', async () => {
    const query = '{ products { id } ... @defer(label: "root") { product(id: "p1") { name } } }';
    const { apollo, v02 } = await wire(query);
    expect(apollo).toEqual([
      { data: { products: [{ id: 'p1' }, { id: 'p2' }] }, hasNext: true },
      { incremental: [{ data: { product: { name: 'Product p1' } }, path: [], label: 'root' }], hasNext: false },
    ]);
    expect(v02[0]).toMatchObject({ pending: [{ id: '0', path: [], label: 'root' }] });
  });

  it('a defer under a type condition applies only to the list elements of that type', async () => {
    const query = '{ search { ... on Book { title } ... on Product { name ... @defer { stock } } } }';
    const { apollo, v02 } = await wire(query);
    expect(apollo).toEqual([
      { data: { search: [{ title: 'Dune' }, { name: 'Product p1' }] }, hasNext: true },
      { incremental: [{ data: { stock: 10 }, path: ['search', 1] }], hasNext: false },
    ]);
    expect(v02[0]).toMatchObject({ pending: [{ id: '0', path: ['search', 1] }] });
  });

  it('an error in a deferred part comes in that part, at its path, and the primary part is intact', async () => {
    const query = '{ products { name ... @defer { warehouse } } }';
    const { apollo, v02 } = await wire(query);
    expect(apollo[0]).toEqual({ data: { products: [{ name: 'Product p1' }, { name: 'Product p2' }] }, hasNext: true });
    expect(apollo[1]).toEqual({
      incremental: [
        { data: { warehouse: 'W-p1' }, path: ['products', 0] },
        {
          data: { warehouse: null },
          path: ['products', 1],
          errors: [expect.objectContaining({ message: 'warehouse p2 is closed', path: ['products', 1, 'warehouse'] })],
        },
      ],
      hasNext: false,
    });
    expect(v02[1]).toEqual({
      incremental: [
        { id: '0', data: { warehouse: 'W-p1' } },
        {
          id: '1',
          data: { warehouse: null },
          errors: [expect.objectContaining({ message: 'warehouse p2 is closed' })],
        },
      ],
      completed: [{ id: '0' }, { id: '1' }],
      hasNext: false,
    });
  });

  it('a deferred subgraph whose breaker is open: its part carries SUBGRAPH_UNAVAILABLE, the primary part is served', async () => {
    inventoryDown = true;
    const { apollo, v02 } = await wire(
      '{ product(id: "p1") { name ... @defer { warehouse } ... @defer(label: "stock") { stock } } }',
    );
    expect(apollo[0]).toEqual({ data: { product: { name: 'Product p1' } }, hasNext: true });
    const unavailable = expect.objectContaining({
      extensions: expect.objectContaining({
        code: 'SUBGRAPH_UNAVAILABLE',
        subgraph: 'inventory',
        reason: 'breaker_open',
      }),
    });
    const later = apollo.slice(1).flatMap((p) => (p as { incremental: unknown[] }).incremental);
    // warehouse is nullable: null with the error; stock is not, so its fragment fails as a whole.
    expect(later).toEqual(
      expect.arrayContaining([
        { data: { warehouse: null }, path: ['product'], errors: [unavailable] },
        { data: null, path: ['product'], label: 'stock', errors: expect.arrayContaining([unavailable]) },
      ]),
    );
    const stock = (v02[0] as { pending: Array<{ id: string; label?: string }> }).pending.find(
      (p) => p.label === 'stock',
    )!;
    const completed = v02.slice(1).flatMap((p) => (p as { completed: unknown[] }).completed);
    expect(completed).toEqual(
      expect.arrayContaining([{ id: stock.id, errors: expect.arrayContaining([unavailable]) }]),
    );
  });

  it('a field the caller may not see inside a deferred fragment: null with FORBIDDEN, once, and never fetched', async () => {
    const query = '{ product(id: "p1") { reviews { body author { name ... @defer(label: "contact") { email } } } } }';
    const all = await payloads(query);
    const forbidden = all
      .flatMap((p) => (p.kind === 'initial' ? (p.result.errors ?? []) : p.delivered.flatMap((d) => d.errors ?? [])))
      .filter((e) => e.extensions?.code === 'FORBIDDEN');
    expect(forbidden).toHaveLength(1);
    const { apollo } = await wire(query);
    // Both come with the fragment the field is in, not with the primary part.
    expect(apollo[0]).toEqual({
      data: { product: { reviews: [1, 2].map((n) => ({ body: `p1 review ${n}`, author: { name: `User u${n}` } })) } },
      hasNext: true,
    });
    expect(apollo[1]).toMatchObject({
      incremental: [
        {
          label: 'contact',
          errors: [
            expect.objectContaining({
              path: ['product', 'reviews', '@', 'author', 'email'],
              extensions: { code: 'FORBIDDEN' },
            }),
          ],
        },
        { label: 'contact' },
      ],
    });
    const later = apollo.slice(1).flatMap((p) => (p as { incremental: Array<{ data: unknown }> }).incremental);
    expect(later.map((i) => i.data)).toEqual([{ email: null }, { email: null }]);
    expect(JSON.stringify(apollo)).not.toContain('@example.com');
    // Outside the deferred fragment, in the primary part, as on a query without @defer.
    const primary = await wire('{ product(id: "p1") { reviews { author { email ... @defer { name } } } } }');
    expect(primary.apollo[0]).toMatchObject({
      data: { product: { reviews: [{ author: { email: null } }, { author: { email: null } }] } },
      errors: [expect.objectContaining({ extensions: { code: 'FORBIDDEN' } })],
      hasNext: true,
    });
    expect(JSON.stringify(primary.apollo.slice(1))).not.toContain('FORBIDDEN');
  });

  it('a primary part whose fields are all deferred is the empty object, the parts then fill it', async () => {
    const query = '{ product(id: "p1") { ... @defer { reviews { ... @defer { body } } } } }';
    const { apollo } = await wire(query);
    expect(apollo[0]).toEqual({ data: { product: {} }, hasNext: true });
    expect(apollo[1]).toEqual({ incremental: [{ data: { reviews: [{}, {}] }, path: ['product'] }], hasNext: true });
    expect(merged(apollo)).toEqual(await whole(query));
  });

  it('a limit exceeded by deferred fields refuses the operation before anything runs (MAX_ALIASES 2)', async () => {
    const within = await payloads('{ product(id: "p1") { ... @defer { a: stock b: stock } } }');
    expect(within).toHaveLength(2);
    const over = await payloads('{ product(id: "p1") { name ... @defer { a: stock b: stock c: stock } } }');
    expect(over).toEqual([
      {
        kind: 'initial',
        result: {
          errors: [
            expect.objectContaining({ extensions: expect.objectContaining({ code: expect.stringMatching(/ALIAS/) }) }),
          ],
        },
        pending: [],
        hasNext: false,
      },
    ]);
  });
});

/** The parts of a deferSpec=20220824 stream merged as a client merges them. */
function merged(parts: Array<Record<string, unknown>>): unknown {
  const data = structuredClone(parts[0]!.data) as Record<string, unknown>;
  for (const part of parts.slice(1)) {
    for (const { data: piece, path } of part.incremental as Array<{
      data: Record<string, unknown>;
      path: Array<string | number>;
    }>) {
      const target = path.reduce<Record<string | number, unknown>>(
        (at, key) => at[key] as Record<string | number, unknown>,
        data,
      );
      deepAssign(target, piece);
    }
  }
  return { data };
}

function deepAssign(target: Record<string | number, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    if (value && typeof value === 'object' && target[key] && typeof target[key] === 'object')
      deepAssign(target[key] as Record<string, unknown>, value as Record<string, unknown>);
    else target[key] = value;
  }
}
