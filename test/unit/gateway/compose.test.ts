import { composeIncrementally, composeSupergraph, type SubgraphSource } from '../../../gateway/supergraph/compose';
import { typeDefs as users } from '../../../subgraphs/users';
import { typeDefs as catalog } from '../../../subgraphs/catalog';
import { typeDefs as orders } from '../../../subgraphs/orders';
import { typeDefs as payments } from '../../../subgraphs/payments';

const source = (name: string, sdl: string): SubgraphSource => ({ name, url: `http://${name}.test/graphql`, sdl });
const examples = [source('users', users), source('catalog', catalog), source('orders', orders), source('payments', payments)];

/** Claims `Product.price` with another type and no @shareable: cannot compose with catalog. */
const clashing = source(
  'pricing',
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
   type Product @key(fields: "id") { id: ID! price: String! }`,
);

describe('composeSupergraph', () => {
  it('composes the four example subgraphs into one supergraph', () => {
    const result = composeSupergraph(examples);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    for (const name of ['USERS', 'CATALOG', 'ORDERS', 'PAYMENTS']) expect(result.supergraphSdl).toContain(`${name} @join__graph`);
  });

  it('reports errors for SDL that does not parse', () => {
    const result = composeSupergraph([source('broken', 'type Query {')]);
    expect(result).toEqual({ ok: false, errors: [expect.stringContaining('SDL does not parse')] });
  });

  it('reports an empty set as an error', () => {
    expect(composeSupergraph([]).ok).toBe(false);
  });
});

describe('composeIncrementally', () => {
  it('refuses by name only the subgraph that breaks composition and keeps the rest', () => {
    const trusted = new Set(examples.map((s) => s.name));
    const { composition, refused } = composeIncrementally([...examples, clashing], trusted);
    expect(refused.map((r) => r.name)).toEqual(['pricing']);
    expect(refused[0].errors.join(' ')).toMatch(/price/);
    expect(composition?.subgraphs.map((s) => s.name).sort()).toEqual(['catalog', 'orders', 'payments', 'users']);
  });

  it('still lands a good new subgraph beside a refused one', () => {
    const reviews = source(
      'reviews',
      `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
       type Query { topReview: String }`,
    );
    const { composition, refused } = composeIncrementally([...examples, clashing, reviews], new Set(['users', 'catalog', 'orders', 'payments']));
    expect(refused.map((r) => r.name)).toEqual(['pricing']);
    expect(composition?.supergraphSdl).toContain('topReview');
  });
});
