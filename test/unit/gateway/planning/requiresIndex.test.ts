/**
 * What the planner fixes read from a supergraph: every `@requires` (which field, in which subgraph,
 * selecting what), which subgraphs resolve each field, and by which keys. Read from a supergraph
 * written by hand in composition's join__ spelling, so each rule has its own line.
 */
import { parse, type FieldNode, type OperationDefinitionNode } from 'graphql';
import { printArguments, RequiresIndex } from '../../../../gateway/planning/requiresIndex';

const SUPERGRAPH = `
  enum join__Graph {
    LABELS @join__graph(name: "labels", url: "http://labels.invalid/graphql")
    PRICING @join__graph(name: "pricing", url: "http://pricing.invalid/graphql")
    STOCK @join__graph(url: "http://stock.invalid/graphql")
  }
  enum Currency @join__type(graph: PRICING) { USD EUR }
  type Product
    @join__type(graph: LABELS, key: "id")
    @join__type(graph: PRICING, key: "id")
    @join__type(graph: PRICING, key: "sku")
    @join__type(graph: STOCK, key: "id", resolvable: false)
    @join__type(graph: STOCK, key: "sku", resolvable: true)
    @join__type(graph: LABELS, extension: true)
  {
    id: ID!
    sku: String! @join__field(graph: PRICING) @join__field(graph: STOCK)
    price(currency: Currency!, tax: Boolean): Float! @join__field(graph: LABELS, external: true) @join__field(graph: PRICING) @join__field(graph: STOCK, external: false)
    usd: String! @join__field(graph: LABELS, requires: "price(tax: true, currency: USD) sku ... on Product { id }")
    eur: String! @join__field(graph: LABELS, requires: "price(currency: EUR)") @join__field
  }
  extend type Warehouse @join__type(graph: STOCK) { stock: Int @join__field(graph: STOCK, requires: "sku") }
  interface Node @join__type(graph: LABELS, key: "id") { id: ID! label: String @join__field(graph: LABELS, requires: "id") }
  input Filter @join__type(graph: PRICING) { cheap: Boolean @join__field(graph: PRICING, requires: "x") }
  type Query @join__type(graph: PRICING) { product: Product @join__field(graph: PRICING) }
`;

describe('RequiresIndex.fromSupergraph', () => {
  // Read in each test, not once for the file: the mutation run's per-test coverage sees only what a test runs.
  let index: RequiresIndex;
  beforeEach(() => (index = RequiresIndex.fromSupergraph(SUPERGRAPH)));

  it('lists each @requires by type, with the subgraph named as fetches name it and the top-level fields it selects', () => {
    expect(index.on('Product')).toEqual([
      {
        subgraph: 'labels',
        typeName: 'Product',
        field: 'usd',
        // arguments sorted by name, the inline fragment left out
        selects: [
          { name: 'price', printedArguments: '(currency: USD, tax: true)' },
          { name: 'sku', printedArguments: '' },
        ],
      },
      { subgraph: 'labels', typeName: 'Product', field: 'eur', selects: [{ name: 'price', printedArguments: '(currency: EUR)' }] },
    ]);
    // from a type extension, in a graph whose join__graph has no name: its enum value
    expect(index.on('Warehouse')).toEqual([{ subgraph: 'STOCK', typeName: 'Warehouse', field: 'stock', selects: [{ name: 'sku', printedArguments: '' }] }]);
    expect(index.on('Node')).toEqual([{ subgraph: 'labels', typeName: 'Node', field: 'label', selects: [{ name: 'id', printedArguments: '' }] }]);
    // input objects carry no @requires
    expect(index.on('Filter')).toEqual([]);
    expect(index.on('Nope')).toEqual([]);
    expect(index.isEmpty).toBe(false);
  });

  it('knows which subgraphs resolve each field: not where it is @external, and every graph of the type where it has no join__field', () => {
    expect(index.ownership.fields.get('Product.price')).toEqual(['pricing', 'STOCK']);
    expect(index.ownership.fields.get('Product.sku')).toEqual(['pricing', 'STOCK']);
    expect(index.ownership.fields.get('Product.id')).toEqual(['labels', 'pricing', 'pricing', 'STOCK', 'STOCK', 'labels']);
    // a join__field without a graph names no owner
    expect(index.ownership.fields.get('Product.eur')).toEqual(['labels']);
    expect(index.ownership.fields.get('Warehouse.stock')).toEqual(['STOCK']);
    expect(index.ownership.fields.has('Filter.cheap')).toBe(false);
  });

  it('keeps each subgraph`s resolvable keys, in order, and no key that is not resolvable or not given', () => {
    expect(index.ownership.keys.get('Product')).toEqual(
      new Map([
        ['labels', ['id']],
        ['pricing', ['id', 'sku']],
        ['STOCK', ['sku']],
      ]),
    );
    expect(index.ownership.keys.get('Query')).toEqual(new Map());
    expect(index.ownership.keys.get('Node')).toEqual(new Map([['labels', ['id']]]));
  });

  it('reads a parsed document as it reads the text', () => {
    expect(RequiresIndex.fromSupergraph(parse(SUPERGRAPH))).toEqual(index);
  });

  it('is empty for a supergraph without @requires', () => {
    const plain = RequiresIndex.fromSupergraph('type Query @join__type(graph: A) { a: Int @join__field(graph: A) }');
    expect(plain.isEmpty).toBe(true);
    expect(plain.ownership.fields.get('Query.a')).toEqual(['A']);
    expect(new RequiresIndex([]).isEmpty).toBe(true);
  });
});

describe('printArguments', () => {
  const field = (text: string) => (parse(`{ ${text} }`).definitions[0] as OperationDefinitionNode).selectionSet.selections[0] as FieldNode;

  it('prints arguments sorted by name, so their order does not matter, and nothing for none', () => {
    expect(printArguments(field('f(b: 2, a: "x")'))).toBe('(a: "x", b: 2)');
    expect(printArguments(field('f(a: "x", b: 2)'))).toBe('(a: "x", b: 2)');
    expect(printArguments(field('f(in: { z: 1, y: [A] })'))).toBe('(in: {z: 1, y: [A]})');
    expect(printArguments(field('f'))).toBe('');
  });
});
