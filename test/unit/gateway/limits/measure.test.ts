import { buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import { measureOperation } from '../../../../gateway/limits';

const schema = buildSchema(`
  type Query { shop: Shop, products(first: Int, limit: Int): [Product!]!, paged(first: Int = 5): [Product!]! }
  type Shop { name: String, products(last: Int): [Product!]! }
  type Product { id: ID!, name: String, reviews(first: Int): [Review!]!, tags: [String!]! }
  type Review { stars: Int, product: Product }
`);

const measure = (query: string, variables?: Record<string, unknown>) => {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
  return measureOperation(schema, document, operation, { defaultListSize: 10, variables });
};

describe('measureOperation', () => {
  it('counts depth as levels of nested fields, through fragments', () => {
    expect(measure('{ shop { name } }').depth).toBe(2);
    expect(measure('{ shop { products { reviews { product { id } } } } }').depth).toBe(5);
    expect(measure('{ shop { ...S } } fragment S on Shop { products { ... on Product { reviews { stars } } } }').depth).toBe(4);
  });

  it('counts aliases, once per fragment spread', () => {
    expect(measure('{ a: shop { n: name } b: shop { name } }').aliases).toBe(3);
    expect(measure('{ shop { ...S ...S x: products { ...P } } } fragment S on Shop { a: name } fragment P on Product { b: id c: id }').aliases).toBe(5);
  });

  it('counts root fields, expanding fragments at the root and ignoring introspection', () => {
    expect(measure('{ a: shop { name } b: shop { name } ...R __typename } fragment R on Query { products { id } }').rootFields).toBe(3);
  });

  it('estimates cost from first/last/limit, variables, schema defaults or the default list size', () => {
    expect(measure('{ shop { name } }').cost).toBe(2);
    expect(measure('{ products { id } }').cost).toBe(20);
    expect(measure('{ products(first: 3) { id } }').cost).toBe(6);
    expect(measure('{ products(limit: 4) { id } }').cost).toBe(8);
    expect(measure('{ shop { products(last: 2) { id } } }').cost).toBe(1 + 2 * 2);
    expect(measure('query ($n: Int) { products(first: $n) { id } }', { n: 7 }).cost).toBe(14);
    expect(measure('query ($n: Int = 2) { products(first: $n) { id } }').cost).toBe(4);
    expect(measure('{ paged { id } }').cost).toBe(10);
  });

  it('multiplies down nested lists', () => {
    // 100 products × (1 + 50 reviews × (1 + stars)) = 100 × 101 = 10,100
    expect(measure('{ products(first: 100) { reviews(first: 50) { stars } } }').cost).toBe(100 * (1 + 50 * 2));
    // a list of scalars costs its size
    expect(measure('{ products(first: 2) { tags } }').cost).toBe(2 * (1 + 10));
  });

  it('ignores introspection', () => {
    expect(measure('{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }')).toEqual({ depth: 0, aliases: 0, rootFields: 0, cost: 0 });
  });

  it('terminates on a fragment cycle (validation refuses it; measuring must not recurse forever)', () => {
    const result = measure('{ shop { products { ...A } } } fragment A on Product { reviews { product { ...B } } } fragment B on Product { ...A }');
    expect(result.depth).toBe(4);
    expect(measure('{ ...Q } fragment Q on Query { ...Q shop { name } }').rootFields).toBe(1);
  });

  it('stays linear on a fragment fan-out bomb', () => {
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Product { ${i + 1 < levels ? `...F${i + 1} ...F${i + 1}` : 'id'} }`).join('\n');
    const started = performance.now();
    const result = measure(`{ products(first: 1) { ...F0 } } ${fragments}`);
    expect(performance.now() - started).toBeLessThan(50);
    expect(result.cost).toBe(1 + 2 ** (levels - 1));
  });
});
