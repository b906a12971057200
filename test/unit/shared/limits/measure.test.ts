import { buildSchema, getIntrospectionQuery, parse, type OperationDefinitionNode } from 'graphql';
import { measureOperation, readCostDirectives, type CostDirectives } from '@trellis/kit/internal/limits';

const schema = buildSchema(`
  type Query {
    shop: Shop, products(first: Int, limit: Int, after: String): [Product!]!, paged(first: Int = 5): [Product!]!
    odd(first: String = "many"): [Product!]!, window(first: Int, last: Int): [Product!]!, skipped(skip: Int = 100, first: Int = 5): [Product!]!
    accounts(first: Int): [Account!]!, search(first: Int): [SearchResult!]!, me: Account
  }
  type Shop { name: String, products(last: Int): [Product!]! }
  type Product { id: ID!, name: String, reviews(first: Int): [Review!]!, tags: [String!]! }
  type Review { stars: Int, product: Product }
  interface Account { id: ID! }
  interface Named { name: String }
  type User implements Account & Named { id: ID!, name: String, friends(first: Int): [User!]! }
  type Admin implements Account & Named { id: ID!, name: String, audits(first: Int): [Audit!]! }
  type Audit { at: String }
  union SearchResult = User | Admin | Product
`);

const measure = (query: string, variables?: Record<string, unknown>, costDirectives?: CostDirectives) => {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
  return measureOperation(schema, document, operation, { defaultListSize: 10, variables, costDirectives });
};

describe('measureOperation', () => {
  it('counts depth as levels of nested fields, through fragments', () => {
    expect(measure('{ shop { name } }').depth).toBe(2);
    expect(measure('{ shop { products { reviews { product { id } } } } }').depth).toBe(5);
    expect(measure('{ shop { ...S } } fragment S on Shop { products { ... on Product { reviews { stars } } } }').depth).toBe(4);
    expect(measure('{ shop { name ...S } } fragment S on Shop { products { id } }').depth).toBe(3);
  });

  it('counts aliases, once per fragment spread', () => {
    expect(measure('{ a: shop { n: name } b: shop { name } }').aliases).toBe(3);
    expect(measure('{ shop { ...S ...S x: products { ...P } } } fragment S on Shop { a: name } fragment P on Product { b: id c: id }').aliases).toBe(5);
    expect(measure('{ shop { ... on Shop { a: name b: name } } }').aliases).toBe(2);
    expect(measure('{ a: __typename }').aliases).toBe(0);
  });

  it('counts root fields, expanding fragments at the root and ignoring introspection', () => {
    expect(measure('{ a: shop { name } b: shop { name } ...R __typename } fragment R on Query { products { id } }').rootFields).toBe(3);
  });

  it('counts root fields inside inline fragments at the root', () => {
    const fields = Array.from({ length: 25 }, (_, i) => `f${i}: shop { name }`).join(' ');
    expect(measure(`{ ... { ${fields} } }`).rootFields).toBe(25);
    expect(measure(`{ ... on Query { a: shop { name } } ... @include(if: true) { b: shop { name } } }`).rootFields).toBe(2);
  });

  it('estimates cost from first/last/limit, variables, schema defaults or the default list size', () => {
    expect(measure('{ shop { name } }').cost).toBe(2);
    expect(measure('{ products { id } }').cost).toBe(20);
    expect(measure('{ products(first: 3) { id } }').cost).toBe(6);
    expect(measure('{ products(limit: 4) { id } }').cost).toBe(8);
    expect(measure('{ products(first: 3, limit: 4) { id } }').cost).toBe(6);
    expect(measure('{ products(first: 2.5) { id } }').cost).toBe(5);
    expect(measure('{ shop { products(last: 2) { id } } }').cost).toBe(1 + 2 * 2);
    expect(measure('query ($n: Int) { products(first: $n) { id } }', { n: 7 }).cost).toBe(14);
    expect(measure('query ($n: Int = 2) { products(first: $n) { id } }').cost).toBe(4);
    expect(measure('query ($n: Int = 2) { products(first: $n) { id } }', { n: 3 }).cost).toBe(6);
    expect(measure('query ($n: Float = 2.5) { products(first: $n) { id } }').cost).toBe(5);
    expect(measure('query ($n: Int) { products(first: $n) { id } }', { n: 'x' }).cost).toBe(20);
    expect(measure('query ($n: Int) { products(first: $n) { id } }', { n: Infinity }).cost).toBe(20);
    expect(measure('query ($n: Int) { products(first: $n) { id } }').cost).toBe(20);
    expect(measure('query ($s: String = "x") { products(first: $s) { id } }').cost).toBe(20);
    expect(measure('{ paged { id } }').cost).toBe(10);
    expect(measure('{ paged(first: 1) { id } }').cost).toBe(2);
    expect(measure('{ products(after: "x", first: 3) { id } }').cost).toBe(6);
    // a default that is no number is no size
    expect(measure('{ odd { id } }').cost).toBe(20);
    // the size argument's own default, not another argument's
    expect(measure('{ skipped { id } }').cost).toBe(10);
  });

  it('counts an unknown field or type condition (a batch is measured before validation) without failing', () => {
    expect(measure('{ unknown { a: x { y } } }')).toMatchObject({ aliases: 1, cost: 3, depth: 3 });
    expect(measure('{ shop { ... on Nope { name } } }').cost).toBe(2);
    // under an unknown field, type conditions still take the costliest
    expect(measure('{ unknown { ... on Shop { name } ... on Product { id name } } }').cost).toBe(1 + 2);
  });

  it('multiplies down nested lists', () => {
    // 100 products × (1 + 50 reviews × (1 + stars)) = 100 × 101 = 10,100
    expect(measure('{ products(first: 100) { reviews(first: 50) { stars } } }').cost).toBe(100 * (1 + 50 * 2));
    // a list of scalars costs its size
    expect(measure('{ products(first: 2) { tags } }').cost).toBe(2 * (1 + 10));
  });

  it('never lets a negative size subtract from the total (it would hide an expensive sibling)', () => {
    expect(measure('{ products(first: -5) { id } }').cost).toBe(0);
    const hidden = '{ a: products(first: -100) { reviews(first: 100) { stars } } b: products(first: 100) { reviews(first: 100) { stars } } }';
    expect(measure(hidden).cost).toBe(100 * (1 + 100 * 2));
    expect(measure('query ($n: Int) { a: products(first: $n) { id } b: products(first: 3) { id } }', { n: -50 }).cost).toBe(6);
  });

  it('takes the costliest of type conditions that can never both hold', () => {
    // an Account is a User or an Admin, never both: 10 × (1 + max(10 friends × 2, 10 audits × 2)), not the sum
    const query = '{ accounts { ... on User { friends { id } } ... on Admin { audits { at } } } }';
    expect(measure(query).cost).toBe(10 * (1 + 10 * 2));
    expect(measure('{ accounts { ...U ...A } } fragment U on User { friends(first: 3) { id } } fragment A on Admin { audits(first: 5) { at } }').cost).toBe(10 * (1 + 5 * 2));
    expect(measure('{ search { ... on User { id } ... on Admin { id name } ... on Product { id name tags } } }').cost).toBe(10 * (1 + 1 + 1 + 10));
  });

  it('still adds fragments on the same type, on an overlapping abstract type, and fields selected for every type', () => {
    expect(measure('{ accounts(first: 1) { id ... on User { a: id } ... on User { b: id } } }').cost).toBe(1 * (1 + 1 + 2));
    // Named covers User and Admin: a User gets id (User) + name (Named)
    expect(measure('{ accounts(first: 1) { ... on User { id } ... on Named { name } } }').cost).toBe(1 + 2);
    expect(measure('{ search(first: 1) { ... on Named { name } ... on Admin { id } ... on Product { id name tags } } }').cost).toBe(1 + 12);
    // a fragment on the object type itself applies to it
    expect(measure('{ shop { ... on Shop { name } ...S } } fragment S on Shop { name }').cost).toBe(1 + 2);
  });

  it('counts the most directives on one field, inline fragment or fragment spread', () => {
    expect(measure('{ shop { name } }').directives).toBe(0);
    expect(measure('{ shop @include(if: true) @skip(if: false) { name @include(if: true) } }').directives).toBe(2);
    expect(measure('{ shop { ... @include(if: true) @skip(if: false) @include(if: true) { name } } }').directives).toBe(3);
    expect(measure('{ shop { ...S @include(if: true) } } fragment S on Shop { name @skip(if: false) @include(if: true) @skip(if: true) @a @b }').directives).toBe(5);
    expect(measure('{ shop { ...S ...S } } fragment S on Shop { name @a @b }').directives).toBe(2);
  });

  it('measures introspection by its nested lists, not by depth or cost', () => {
    expect(measure('{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }')).toEqual({
      depth: 0,
      aliases: 0,
      rootFields: 0,
      cost: 0,
      directives: 0,
      introspectionDepth: 1,
      fields: 8,
    });
    expect(measure('{ __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }').introspectionDepth).toBe(3);
    expect(measure('{ __type(name: "User") { interfaces { possibleTypes { inputFields { name } } } } }').introspectionDepth).toBe(3);
    expect(measure('{ ... { __type(name: "User") { fields { name } } } }').introspectionDepth).toBe(1);
    expect(measure('{ ...I } fragment I on Query { __type(name: "User") { ...T } } fragment T on __Type { fields { type { ...F } } } fragment F on __Type { fields { name } }').introspectionDepth).toBe(2);
    expect(measure(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true })).introspectionDepth).toBe(1);
    // user fields named like introspection lists are not introspection
    expect(measure('{ shop { products { id } } }').introspectionDepth).toBe(0);
  });

  it('terminates on a fragment cycle (validation refuses it; measuring must not recurse forever)', () => {
    const result = measure('{ shop { products { ...A } } } fragment A on Product { reviews { product { ...B } } } fragment B on Product { ...A }');
    expect(result.depth).toBe(4);
    expect(measure('{ ...Q } fragment Q on Query { ...Q shop { name } }').rootFields).toBe(1);
    expect(measure('{ ...Q } fragment Q on Query { ...Q __type(name: "A") { ...T } } fragment T on __Type { fields { type { ...T } } }').introspectionDepth).toBe(1);
  });

  it('stays linear on a fragment fan-out bomb', () => {
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Product { ${i + 1 < levels ? `...F${i + 1} ...F${i + 1}` : 'id'} }`).join('\n');
    const result = measure(`{ products(first: 1) { ...F0 } } ${fragments}`);
    expect(result.cost).toBe(1 + 2 ** (levels - 1));
    const introspection = Array.from({ length: levels }, (_, i) => `fragment T${i} on __Type { ${i + 1 < levels ? `...T${i + 1} ...T${i + 1}` : 'name'} }`).join('\n');
    expect(measure(`{ __type(name: "A") { ...T0 } } ${introspection}`).introspectionDepth).toBe(0);
    // Every expansion's fields count, introspection's too: the cost of every step that inlines fragments.
    expect(result.fields).toBe(1 + 2 ** (levels - 1));
    expect(measure(`{ __type(name: "A") { ...T0 } } ${introspection}`).fields).toBe(1 + 2 ** (levels - 1));
    const typenames = Array.from({ length: levels }, (_, i) => `fragment F${i} on Product { ${i + 1 < levels ? `...F${i + 1} ... on Product { ...F${i + 1} }` : '__typename'} }`).join('\n');
    expect(measure(`{ products(first: 1) { ...F0 } } ${typenames}`)).toMatchObject({ cost: 1, fields: 1 + 2 ** (levels - 1) });
  });

  it('counts fields as if every fragment were inlined where it is spread, __typename and introspection included', () => {
    expect(measure('{ shop { name } }').fields).toBe(2);
    expect(measure('{ __typename shop { __typename } }').fields).toBe(3);
    expect(measure('{ shop { ...S ...S ... on Shop { name } } } fragment S on Shop { name products { id } }').fields).toBe(8);
    expect(measure('{ search { ... on User { id name } ... on Product { id } } }').fields).toBe(4);
    expect(measure('{ __schema { types { name } } }').fields).toBe(3);
    expect(measure('{ __type(name: "User") { ...T ...T } } fragment T on __Type { name fields { name } }').fields).toBe(7);
    // A spread that re-enters itself counts nothing more (validation refuses the cycle).
    expect(measure('{ shop { ...A } } fragment A on Shop { name ...A }').fields).toBe(2);
  });
});

describe('measureOperation with @cost and @listSize', () => {
  const directives = readCostDirectives(`
    type Query {
      window(first: Int, last: Int): [Product!]! @listSize(assumedSize: 3, slicingArguments: ["first", "last"], requireOneSlicingArgument: false)
      products(first: Int, limit: Int): [Product!]! @listSize(slicingArguments: ["first", "limit"])
      paged(first: Int = 5): [Product!]! @listSize(slicingArguments: ["first"])
      accounts(first: Int): [Account!]! @listSize(assumedSize: 3, slicingArguments: ["first"], requireOneSlicingArgument: false)
      search(first: Int): [SearchResult!]! @listSize(assumedSize: 2)
      shop: Shop @cost(weight: 7)
    }
    type Product @cost(weight: 4) { id: ID!, tags: [String!]! @cost(weight: 0) @listSize(assumedSize: 50) }
    type Shop { name: String, products(last: Int @cost(weight: 9)): [Product!]! }
  `);
  const cost = (query: string, variables?: Record<string, unknown>) => measure(query, variables, directives).cost;

  it('weighs a field by its @cost, else by its type`s @cost, else 1', () => {
    expect(cost('{ shop { name } }')).toBe(7 + 1);
    expect(cost('{ products(first: 2) { id } }')).toBe(2 * (4 + 1));
  });

  it('adds an argument`s @cost when the argument is given', () => {
    expect(cost('{ shop { products(last: 1) { id } } }')).toBe(7 + (1 * (4 + 1) + 9));
    expect(cost('{ shop { products { id } } }')).toBe(7 + 10 * (4 + 1));
  });

  it('sizes a list by its slicing argument, its assumed size, or the default', () => {
    expect(cost('{ products(limit: 3) { id } }')).toBe(3 * 5);
    expect(cost('query ($n: Int) { products(first: $n) { id } }', { n: 6 })).toBe(6 * 5);
    expect(cost('{ paged { id } }')).toBe(5 * 5);
    expect(cost('{ accounts { id } }')).toBe(3 * 2);
    expect(cost('{ accounts(first: 20) { id } }')).toBe(20 * 2);
    // @listSize without slicing arguments is authoritative, even over first:
    expect(cost('{ search(first: 100) { __typename } }')).toBe(2);
    expect(cost('{ products(first: 1) { tags } }')).toBe(1 * (4 + 50 * 0));
  });

  it('takes the largest of several slicing arguments when more than one is allowed, ignoring those with no value', () => {
    expect(cost('{ window(first: 2, last: 5) { id } }')).toBe(5 * 5);
    expect(cost('{ window(last: 5, first: 2) { id } }')).toBe(5 * 5);
    expect(cost('query ($n: Int) { window(first: $n, last: 4) { id } }')).toBe(4 * 5);
    expect(cost('query ($n: Int) { window(first: $n) { id } }')).toBe(3 * 5);
    expect(measure('{ window(first: 2, last: 5) { id } }', undefined, directives).slicingViolation).toBeUndefined();
  });

  it('reports a field that needs exactly one slicing argument and got none or two', () => {
    expect(measure('{ products { id } }', undefined, directives).slicingViolation).toEqual({ coordinate: 'Query.products', slicingArguments: ['first', 'limit'], given: 0 });
    expect(measure('{ products(first: 1, limit: 2) { id } }', undefined, directives).slicingViolation).toEqual({
      coordinate: 'Query.products',
      slicingArguments: ['first', 'limit'],
      given: 2,
    });
    expect(measure('{ products(first: 1) { id } }', undefined, directives).slicingViolation).toBeUndefined();
    expect(measure('{ paged { id } }', undefined, directives).slicingViolation).toBeUndefined();
  });
});
