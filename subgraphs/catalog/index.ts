/** The catalog subgraph: products, prices and stock. Owns `Product`; reserves stock in the placeOrder saga. */
import { BadUserInputError, requestLoader, type SubgraphFactory } from '@trellis/kit';
import { CACHE_CONTROL, FEDERATION_LINK } from '../federation';
import { Inventory, stockSlotOf, type Product } from './inventory';

export const typeDefs = /* GraphQL */ `
  ${FEDERATION_LINK}
  ${CACHE_CONTROL}

  type Query {
    products(first: Int = 20): [Product!]!
    product(id: ID!): Product
  }

  "Kept up to 30 s by gateways and HTTP caches; a gateway drops it at once when its stock changes (announced)."
  type Product @key(fields: "id") @cacheControl(maxAge: 30) {
    id: ID!
    name: String!
    price: Float!
    "Units available to order now."
    inStock: Int!
  }
`;

export const MAX_PAGE = 100;

/** The catalog subgraph over `seed` (the example's products by default). */
export const catalogSubgraphOf = (seed?: readonly Product[]): SubgraphFactory => ({ backends, guard }) => {
  const inventory = new Inventory(backends.state, guard, seed);
  // One `_entities` call with N products is one stock read, not N.
  const products = requestLoader((ids: readonly string[]) => inventory.findMany(ids));
  return {
    name: 'catalog',
    typeDefs,
    participant: { name: 'catalog', handlers: inventory.sagaHandlers(), slotOf: stockSlotOf },
    resolvers: {
      Query: {
        products: (_: unknown, { first }: { first: number }) => {
          if (first < 0 || first > MAX_PAGE) throw new BadUserInputError(`first must be between 0 and ${MAX_PAGE}`);
          return inventory.list(first);
        },
        product: async (_: unknown, { id }: { id: string }) => (await inventory.find(id)) ?? null,
      },
      Product: {
        __resolveReference: ({ id }: { id: string }, context: object) => products(context).load(id),
      },
    },
    onStart: async () => {
      await inventory.seed();
    },
  };
};

export const catalogSubgraph: SubgraphFactory = catalogSubgraphOf();
