import { parse } from 'graphql';
import { readCostDirectives } from '@trellis/kit/internal/limits';

describe('readCostDirectives', () => {
  // As composition writes them into a supergraph (the cost spec's link imports @cost and @listSize).
  const supergraph = `
    schema @link(url: "https://specs.apollo.dev/link/v1.0") @link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@cost", "@listSize"]) { query: Query }
    directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
    directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
    type Query {
      products(first: Int @cost(weight: 3), after: String): [Product!]! @listSize(assumedSize: 20, slicingArguments: ["first"], requireOneSlicingArgument: false)
      search(limit: Int): [Product!]! @listSize(slicingArguments: ["limit"])
      top: [Product!]! @federation__listSize(assumedSize: 5)
      expensive: Int @cost(weight: 25)
    }
    type Product @cost(weight: 2) { id: ID!, price: Money @federation__cost(weight: 4) }
    interface Priced @cost(weight: 6) { price: Money @cost(weight: 7) }
    extend type Product { stock: Int @cost(weight: 9) }
    scalar Money @cost(weight: 8)
    enum Currency @cost(weight: 1) { EUR }
    union Thing @cost(weight: 99) = Product
    input Filter { name: String @cost(weight: 5) }
  `;

  it('reads @cost on fields, types (object, interface, scalar, enum) and arguments, under either name', () => {
    const { weights } = readCostDirectives(supergraph);
    expect(Object.fromEntries(weights)).toEqual({
      'Query.products(first:)': 3,
      'Query.expensive': 25,
      Product: 2,
      'Product.price': 4,
      Priced: 6,
      'Priced.price': 7,
      'Product.stock': 9,
      Money: 8,
      Currency: 1,
    });
  });

  it('reads @listSize with its slicing arguments, assumed size and whether one slicing argument is required (default: yes)', () => {
    const { listSizes } = readCostDirectives(parse(supergraph));
    expect(Object.fromEntries(listSizes)).toEqual({
      'Query.products': { assumedSize: 20, slicingArguments: ['first'], requireOneSlicingArgument: false },
      'Query.search': { assumedSize: undefined, slicingArguments: ['limit'], requireOneSlicingArgument: true },
      'Query.top': { assumedSize: 5, slicingArguments: [], requireOneSlicingArgument: true },
    });
  });

  it('finds nothing in a supergraph without them, and ignores malformed arguments', () => {
    expect(readCostDirectives('type Query { a: [Int] @deprecated b: Int @cost(weight: "x") }')).toEqual({ weights: new Map(), listSizes: new Map() });
    const { listSizes } = readCostDirectives('type Query { a: [Int] @listSize(assumedSize: "9", slicingArguments: "first", requireOneSlicingArgument: "no") b: [Int] @listSize(slicingArguments: ["x", 1]) }');
    expect(listSizes.get('Query.a')).toEqual({ assumedSize: undefined, slicingArguments: [], requireOneSlicingArgument: true });
    expect(listSizes.get('Query.b')).toEqual({ assumedSize: undefined, slicingArguments: ['x'], requireOneSlicingArgument: true });
  });
});
