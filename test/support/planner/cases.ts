/**
 * The four query-planner bugs of Apollo's planner 2.14 (issue 20), each as its own small subgraphs
 * with resolvers over fixed data, so a test can plan them and serve them from real subgraph servers.
 */
import type { GraphQLResolverMap } from '@apollo/subgraph';

export interface CaseSubgraph {
  name: string;
  typeDefs: string;
  resolvers: GraphQLResolverMap<unknown>;
}

const link = (imports: string[]) => `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: [${imports.map((i) => `"${i}"`).join(', ')}])`;

/** Bug 1: T's first key in `b` is non-resolvable; coming back to `b` after fetching `x` from `a` must use `id`. */
export const nonResolvableKeyCase: CaseSubgraph[] = [
  {
    name: 'a',
    typeDefs: `${link(['@key'])}
      type T @key(fields: "id") { id: ID! x: Int! }`,
    resolvers: { T: { __resolveReference: ({ id }: { id: string }) => ({ id, x: 21 }) } },
  },
  {
    name: 'b',
    typeDefs: `${link(['@key', '@external', '@requires'])}
      type Query { t: T! }
      type T @key(fields: "other", resolvable: false) @key(fields: "id") { id: ID! other: ID! x: Int! @external y: Int! @requires(fields: "x") }`,
    resolvers: {
      Query: { t: () => ({ id: 't1', other: 'o1' }) },
      // Resolves by `id` only, as a subgraph must for a non-resolvable key.
      T: {
        __resolveReference: (ref: { id?: string; x: number }) => (ref.id ? { id: ref.id, other: 'o1', x: ref.x } : null),
        y: (t: { x: number }) => t.x * 2,
      },
    },
  },
];

/** Bug 2: `Node.field` lives only on `b`'s non-resolvable @interfaceObject, so `a { field }` cannot be planned. */
export const unreachableInterfaceObjectCase: CaseSubgraph[] = [
  {
    name: 'a',
    typeDefs: `${link(['@key', '@interfaceObject'])}
      type Query { a: Node product: Product }
      interface Node @key(fields: "id") { id: ID! }
      type Product @interfaceObject @key(fields: "id", resolvable: false) { id: ID! }`,
    resolvers: {
      Query: { a: () => ({ __typename: 'Node', id: 'n1' }), product: () => ({ id: 'p1' }) },
      Node: { __resolveType: () => 'Node' },
    },
  },
  {
    name: 'b',
    typeDefs: `${link(['@key', '@interfaceObject'])}
      type Query { b: Node }
      type Node @interfaceObject @key(fields: "id", resolvable: false) { id: ID! field: String }
      interface Product @key(fields: "id") { id: ID! name: String }
      type Bread implements Product @key(fields: "id") { id: ID! name: String }`,
    resolvers: {
      Query: { b: () => ({ id: 'n1', field: 'foo' }) },
      Product: { __resolveReference: ({ id }: { id: string }) => ({ __typename: 'Bread', id, name: 'Sourdough' }), __resolveType: () => 'Bread' },
      Bread: { __resolveReference: ({ id }: { id: string }) => ({ id, name: 'Sourdough' }) },
    },
  },
];

const comments = [1, 2, 3, 4, 5].map((n) => ({ id: `c${n}`, body: `comment ${n}` }));

/** Bug 3: `summary` requires `comments(limit: 3)`; a client asking `comments(limit: 1)` must get one comment. */
export const requiresArgumentCase: CaseSubgraph[] = [
  {
    name: 'posts',
    typeDefs: `${link(['@key'])}
      type Query { post: Post }
      type Post @key(fields: "id") { id: ID! comments(limit: Int!): [Comment!]! }
      type Comment { id: ID! body: String! }`,
    resolvers: {
      Query: { post: () => ({ id: 'p1' }) },
      Post: { __resolveReference: ({ id }: { id: string }) => ({ id }), comments: (_: unknown, { limit }: { limit: number }) => comments.slice(0, limit) },
    },
  },
  {
    name: 'digest',
    typeDefs: `${link(['@key', '@external', '@requires'])}
      type Post @key(fields: "id") { id: ID! comments(limit: Int!): [Comment!]! @external summary: String! @requires(fields: "comments(limit: 3) { id }") }
      type Comment { id: ID! @external }`,
    resolvers: {
      Post: {
        __resolveReference: (ref: { id: string; comments?: Array<{ id: string }> }) => ref,
        summary: (post: { comments: Array<{ id: string }> }) => `${post.comments.length} comments: ${post.comments.map((c) => c.id).join(',')}`,
      },
    },
  },
];

const prices: Record<string, number> = { USD: 10, EUR: 9 };

/** Bug 4: `usd` and `eur` require `price` in two currencies; each must see its own. */
export const requiredTwiceCase: CaseSubgraph[] = [
  {
    name: 'pricing',
    typeDefs: `${link(['@key'])}
      type Query { product: Product }
      enum Currency { USD EUR }
      type Product @key(fields: "id") { id: ID! price(currency: Currency!): Float! }`,
    resolvers: {
      Query: { product: () => ({ id: 'p1' }) },
      Product: { __resolveReference: ({ id }: { id: string }) => ({ id }), price: (_: unknown, { currency }: { currency: string }) => prices[currency] },
    },
  },
  {
    name: 'labels',
    typeDefs: `${link(['@key', '@external', '@requires'])}
      enum Currency { USD EUR }
      type Product @key(fields: "id") {
        id: ID!
        price(currency: Currency!): Float! @external
        usd: String! @requires(fields: "price(currency: USD)")
        eur: String! @requires(fields: "price(currency: EUR)")
      }`,
    resolvers: {
      Product: {
        __resolveReference: (ref: { id: string; price?: number }) => ref,
        usd: ({ price }: { price: number }) => `$${price}`,
        eur: ({ price }: { price: number }) => `€${price}`,
      },
    },
  },
];
