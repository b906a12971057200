/**
 * What the entity cache reads from a supergraph, on one written out by hand the way composition
 * writes it: each subgraph's keys per type (the entry's name, the way a change names the entity),
 * and the scopes that decide what a type shows (so callers who could see different data never share).
 */
import { SupergraphFacts } from '../../../../gateway/entityCache/supergraphFacts';

const SUPERGRAPH = `
  enum join__Graph {
    SHELF @join__graph(name: "shelf", url: "http://shelf")
    STOCK @join__graph(name: "stock", url: "http://stock")
    NAMELESS @join__graph(url: "http://nameless")
    BARE
  }
  enum Colour { RED @join__graph(name: "colour") }
  type Query @join__type(graph: SHELF) @join__type(graph: STOCK) { products: [Product] }
  type Product
    @join__type(graph: SHELF, key: "upc")
    @join__type(graph: STOCK, key: "id org { id }")
    @join__type(graph: STOCK, key: "sku")
  {
    upc: ID
    id: ID
    sku: ID
    org: Org
    cost: Int @requiresScopes(scopes: [["stock:cost", "stock:read"], ["admin"]])
  }
  type Org @join__type(graph: STOCK) { id: ID }
  type Order @join__type(graph: STOCK, key: "number") @authenticated { number: Int total: Int @requiresScopes(scopes: [["orders:total"]]) }
  interface Node @join__type(graph: SHELF, key: "id") { id: ID }
  type Ghost @join__type(graph: NAMELESS, key: "id") @join__type(graph: BARE, key: "id") @join__type(graph: GONE, key: "id") { id: ID }
  type Odd @join__type(graph: SHELF, key: 7) @other(graph: SHELF, key: "id") { id: ID }
  scalar Price @join__type(graph: SHELF, key: "id")
`;
const facts = SupergraphFacts.read(SUPERGRAPH);

describe('SupergraphFacts keys', () => {
  it('finds the entity’s key in a representation by the subgraph’s key, and what else it carries', () => {
    expect(facts.keyOf('shelf', 'Product', { __typename: 'Product', upc: '1', weight: 3 })).toEqual({ key: { upc: '1' }, rest: { weight: 3 } });
    expect(facts.keyOf('shelf', 'Product', { __typename: 'Product', upc: '1' })).toEqual({ key: { upc: '1' }, rest: {} });
    // Another subgraph's key is not this one's.
    expect(facts.keyOf('stock', 'Product', { __typename: 'Product', upc: '1' })).toBeUndefined();
    expect(facts.keyOf('other', 'Product', { __typename: 'Product', upc: '1' })).toBeUndefined();
    expect(facts.keyOf('shelf', 'Nothing', { __typename: 'Nothing', upc: '1' })).toBeUndefined();
  });

  it('takes the first of the subgraph’s keys the representation carries, nested fields too', () => {
    const both = { __typename: 'Product', sku: 's', id: 'p', org: { id: 'o', name: 'n' } };
    expect(facts.keyOf('stock', 'Product', both)).toEqual({ key: { id: 'p', org: { id: 'o' } }, rest: { sku: 's' } });
    expect(facts.keyOf('stock', 'Product', { __typename: 'Product', sku: 's', id: 'p' })).toEqual({ key: { sku: 's' }, rest: { id: 'p' } });
    for (const org of [null, 'o', ['o'], {}]) expect(facts.keyOf('stock', 'Product', { __typename: 'Product', sku: 's', id: 'p', org })).toEqual({ key: { sku: 's' }, rest: { id: 'p', org } });
    expect(facts.keyOf('stock', 'Product', { __typename: 'Product', id: 'p', org: { id: 'o' } })).toEqual({ key: { id: 'p', org: { id: 'o' } }, rest: {} });
  });

  it('names as entities the types with a key in some subgraph it knows, interfaces too', () => {
    expect(['Product', 'Order', 'Node'].filter((type) => facts.isEntity(type))).toEqual(['Product', 'Order', 'Node']);
    expect(['Query', 'Org', 'Ghost', 'Odd', 'Price', 'Colour', 'Nothing'].filter((type) => facts.isEntity(type))).toEqual([]);
    expect(facts.keyOf('shelf', 'Node', { __typename: 'Node', id: 'n' })).toEqual({ key: { id: 'n' }, rest: {} });
  });

  it('finds an answer object’s key by any subgraph’s key it carries', () => {
    expect(facts.anyKeyOf('Product', { sku: 's', name: 'x' })).toEqual({ sku: 's' });
    expect(facts.anyKeyOf('Product', { upc: 'u', sku: 's' })).toEqual({ upc: 'u' });
    expect(facts.anyKeyOf('Product', { id: 'p', org: { id: 'o' } })).toEqual({ id: 'p', org: { id: 'o' } });
    expect(facts.anyKeyOf('Product', { id: 'p', name: 'x' })).toBeUndefined();
    expect(facts.anyKeyOf('Org', { id: 'o' })).toBeUndefined();
  });
});

describe('SupergraphFacts access variants', () => {
  it('is empty for a type nothing guards, whoever asks', () => {
    expect(facts.accessVariant('Org', null)).toBe('');
    expect(facts.accessVariant('Org', { scopes: ['admin'] })).toBe('');
  });

  it('names sign-in and the scopes the type’s directives name that the caller holds, in one order', () => {
    expect(facts.accessVariant('Product', null)).toBe('anonymous:');
    expect(facts.accessVariant('Product', undefined)).toBe('anonymous:');
    expect(facts.accessVariant('Product', { scopes: [] })).toBe('signed-in:');
    expect(facts.accessVariant('Product', { scopes: ['stock:read', 'unrelated', 'orders:total', 'admin', 'stock:cost'] })).toBe('signed-in:admin stock:cost stock:read');
    expect(facts.accessVariant('Order', { scopes: ['admin', 'orders:total'] })).toBe('signed-in:orders:total');
    expect(facts.accessVariant('Order', { scopes: ['admin'] })).toBe('signed-in:');
  });

  it('for a root answer, which may reach any type: every scope the supergraph names', () => {
    expect(facts.globalAccessVariant(null)).toBe('anonymous:');
    expect(facts.globalAccessVariant({ scopes: ['unrelated', 'orders:total', 'stock:cost'] })).toBe('signed-in:orders:total stock:cost');
    expect(SupergraphFacts.read('type Query { a: Int }').globalAccessVariant({ scopes: ['admin'] })).toBe('');
    expect(SupergraphFacts.EMPTY.globalAccessVariant(null)).toBe('');
    expect(SupergraphFacts.EMPTY.isEntity('Product')).toBe(false);
  });
});
