import { buildSchema, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { measureOperation, readCostDirectives } from '@trellis/kit/internal/limits';
import { MAX_KEPT_SIZES, MeasureCache } from '@trellis/kit/internal/limits/measureCache';

const schema = buildSchema(`
  type Query { product(id: ID!): Product, products(first: Int, count: Int): [Product!]!, feed(size: Int): [Product!]! }
  type Product { id: ID!, name: String, reviews(last: Int): [Review!]! }
  type Review { stars: Int }
`);
const directives = readCostDirectives(`
  type Query { feed(size: Int): [Product!]! @listSize(slicingArguments: ["size"]) }
`);

function counted() {
  const calls: Array<Record<string, unknown> | undefined> = [];
  const cache = new MeasureCache((...args) => {
    calls.push(args[3].variables);
    return measureOperation(...args);
  });
  return { cache, calls };
}

const operationOf = (document: DocumentNode, name?: string) =>
  document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition' && (name === undefined || d.name?.value === name))!;

describe('MeasureCache', () => {
  const options = (variables?: Record<string, unknown>) => ({ defaultListSize: 10, variables, costDirectives: directives });

  it('walks a document once however its non-size variables vary', () => {
    const { cache, calls } = counted();
    const document = parse('query P($id: ID!) { product(id: $id) { name reviews(last: 2) { stars } } }');
    const operation = operationOf(document);
    const first = cache.measureOf(schema, document, operation, options({ id: 'p1' }));
    const second = cache.measureOf(schema, document, operation, options({ id: 'p2' }));
    expect(calls).toHaveLength(1);
    expect(second).toBe(first);
    expect(first).toEqual(measureOperation(schema, document, operation, options({ id: 'p2' })));
  });

  it('keeps one measure per value of a size variable, each the one that value gives', () => {
    const { cache, calls } = counted();
    const document = parse('query L($n: Int, $id: ID) { products(first: $n) { id } product(id: $id) { id } }');
    const operation = operationOf(document);
    const costOf = (n: unknown, id = 'x') => cache.measureOf(schema, document, operation, options({ n, id })).cost;
    expect(costOf(5)).toBe(5 * (1 + 1) + (1 + 1));
    expect(costOf(50)).toBe(50 * (1 + 1) + (1 + 1));
    expect(costOf(5, 'other')).toBe(12);
    expect(calls).toHaveLength(2);
  });

  it('tells a missing size variable (its default applies) from one that is not a number', () => {
    const { cache } = counted();
    const document = parse('query L($n: Int = 3) { products(first: $n) { id } }');
    const operation = operationOf(document);
    const costOf = (variables: Record<string, unknown>) => cache.measureOf(schema, document, operation, options(variables)).cost;
    expect(costOf({})).toBe(3 + 3);
    expect(costOf({ n: null })).toBe(10 + 10);
    expect(costOf({ n: 'seven' })).toBe(10 + 10);
    expect(costOf({})).toBe(6);
  });

  it('counts the size arguments of @listSize and those inside fragments', () => {
    const { cache, calls } = counted();
    const document = parse('query F($s: Int, $c: Int) { feed(size: $s) { id } ...More } fragment More on Query { products(count: $c) { reviews(last: $c) { stars } } }');
    const operation = operationOf(document);
    const costOf = (s: number, c: number) => cache.measureOf(schema, document, operation, options({ s, c })).cost;
    expect(costOf(2, 1)).toBe(measureOperation(schema, document, operation, options({ s: 2, c: 1 })).cost);
    expect(costOf(4, 1)).toBe(measureOperation(schema, document, operation, options({ s: 4, c: 1 })).cost);
    expect(costOf(4, 2)).toBe(measureOperation(schema, document, operation, options({ s: 4, c: 2 })).cost);
    expect(calls).toHaveLength(3);
    expect(costOf(4, 2)).toBe(measureOperation(schema, document, operation, options({ s: 4, c: 2 })).cost);
    expect(calls).toHaveLength(3);
  });

  it('keeps the values of several size variables apart, and a number apart from its text', () => {
    const { cache } = counted();
    const document = parse('query L($a: Int, $b: Int) { products(first: $a) { reviews(last: $b) { stars } } }');
    const operation = operationOf(document);
    const costOf = (variables: Record<string, unknown>) => cache.measureOf(schema, document, operation, options(variables)).cost;
    const fresh = (variables: Record<string, unknown>) => measureOperation(schema, document, operation, options(variables)).cost;
    for (const variables of [{ a: 1, b: 12 }, { a: 11, b: 2 }, { a: 5, b: 1 }, { a: '5', b: 1 }]) expect(costOf(variables)).toBe(fresh(variables));
    expect(fresh({ a: 1, b: 12 })).not.toBe(fresh({ a: 11, b: 2 }));
    expect(fresh({ a: 5, b: 1 })).not.toBe(fresh({ a: '5', b: 1 }));
  });

  it('measures each operation of a document on its own', () => {
    const { cache } = counted();
    const document = parse('query A { product(id: "1") { id } } query B { product(id: "1") { id name reviews { stars } } }');
    expect(cache.measureOf(schema, document, operationOf(document, 'A'), options()).depth).toBe(2);
    expect(cache.measureOf(schema, document, operationOf(document, 'B'), options()).depth).toBe(3);
    expect(cache.measureOf(schema, document, operationOf(document, 'A'), options()).depth).toBe(2);
  });

  it('measures again when the schema, the cost directives or the default list size change', () => {
    const { cache, calls } = counted();
    const document = parse('{ products { id } }');
    const operation = operationOf(document);
    expect(cache.measureOf(schema, document, operation, options()).cost).toBe(20);
    expect(cache.measureOf(schema, document, operation, { ...options(), defaultListSize: 2 }).cost).toBe(4);
    const weighted = readCostDirectives('type Product @cost(weight: 3) { id: ID! }');
    expect(cache.measureOf(schema, document, operation, { defaultListSize: 2, costDirectives: weighted }).cost).toBe(2 * (3 + 1));
    const other = buildSchema('type Query { products: [Product!]! } type Product { id: ID! }');
    expect(cache.measureOf(other, document, operation, { defaultListSize: 2, costDirectives: weighted }).cost).toBe(8);
    expect(calls).toHaveLength(4);
  });

  it(`keeps at most ${MAX_KEPT_SIZES} size values per operation and still answers each one right`, () => {
    const { cache, calls } = counted();
    const document = parse('query L($n: Int) { products(first: $n) { id } }');
    const operation = operationOf(document);
    for (let n = 1; n <= MAX_KEPT_SIZES + 5; n += 1) expect(cache.measureOf(schema, document, operation, options({ n })).cost).toBe(2 * n);
    expect(calls).toHaveLength(MAX_KEPT_SIZES + 5);
    cache.measureOf(schema, document, operation, options({ n: 1 }));
    cache.measureOf(schema, document, operation, options({ n: MAX_KEPT_SIZES }));
    expect(calls).toHaveLength(MAX_KEPT_SIZES + 5);
    cache.measureOf(schema, document, operation, options({ n: MAX_KEPT_SIZES + 1 }));
    expect(calls).toHaveLength(MAX_KEPT_SIZES + 6);
  });
});
