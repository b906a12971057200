/** The catalog subgraph: products, prices and stock. Owns `Product`. */
import { BadUserInputError, type SubgraphOptions } from '../../shared';
import { FEDERATION_LINK } from '../federation';
import { Inventory } from './inventory';

export const typeDefs = /* GraphQL */ `
  ${FEDERATION_LINK}

  type Query {
    products(first: Int = 20): [Product!]!
    product(id: ID!): Product
  }

  type Product @key(fields: "id") {
    id: ID!
    name: String!
    price: Float!
    "Units available to order now."
    inStock: Int!
  }
`;

export const MAX_PAGE = 100;

export function catalogSubgraph(inventory = new Inventory()): SubgraphOptions {
  return {
    name: 'catalog',
    typeDefs,
    resolvers: {
      Query: {
        products: (_: unknown, { first }: { first: number }) => {
          if (first < 0 || first > MAX_PAGE) throw new BadUserInputError(`first must be between 0 and ${MAX_PAGE}`);
          return inventory.list(first);
        },
        product: (_: unknown, { id }: { id: string }) => inventory.find(id) ?? null,
      },
      Product: {
        __resolveReference: ({ id }: { id: string }) => inventory.find(id) ?? null,
      },
    },
  };
}
