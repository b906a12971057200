/** The orders subgraph: what people ordered. Owns `Order`; adds `User.orders`; creates orders in the placeOrder saga. */
import { requestLoader, type SubgraphContext, type SubgraphFactory } from '@trellis/kit';
import { CACHE_CONTROL, FEDERATION_LINK } from '../federation';
import { OrderBook, orderSlotOf, type Order, type OrderItem } from './orderBook';

export const typeDefs = /* GraphQL */ `
  ${FEDERATION_LINK}
  ${CACHE_CONTROL}

  type User @key(fields: "id") @cacheControl(maxAge: 30, scope: PRIVATE) {
    id: ID!
    "Newest first. Only to this user; anyone else gets FORBIDDEN."
    orders: [Order!]!
  }

  "Only to the user who placed it; anyone else gets FORBIDDEN."
  type Order @key(fields: "id") @cacheControl(maxAge: 30, scope: PRIVATE) {
    id: ID!
    "Null when the users subgraph cannot answer (a reference into another subgraph is nullable)."
    user: User
    items: [OrderItem!]!
    total: Float!
    status: OrderStatus!
  }

  type OrderItem @cacheControl(inheritMaxAge: true) {
    "Null when the catalog cannot answer for it, so the order and its user still arrive (with an error at this path)."
    product: Product
    quantity: Int!
  }

  type Product @key(fields: "id", resolvable: false) @cacheControl(inheritMaxAge: true) {
    id: ID!
  }

  enum OrderStatus {
    PENDING
    CONFIRMED
    SHIPPED
    DELIVERED
    CANCELLED
  }
`;

/** The orders subgraph over `seed` (the example's orders by default). */
export const ordersSubgraphOf = (seed?: readonly Order[]): SubgraphFactory => ({ backends, guard }) => {
  const book = new OrderBook(backends.state, guard, seed);
  // One `_entities` call with N orders is one state-store read, not N.
  const orders = requestLoader((ids: readonly string[]) => book.findMany(ids));
  return {
    name: 'orders',
    typeDefs,
    participant: { name: 'orders', handlers: book.sagaHandlers(), slotOf: orderSlotOf },
    resolvers: {
      User: {
        orders: ({ id }: { id: string }, _: unknown, context: SubgraphContext) => {
          context.requireOwner(id, `the orders of user ${id}`);
          return book.byUser(id);
        },
      },
      Order: {
        __resolveReference: async ({ id }: { id: string }, context: SubgraphContext) => {
          const order = await orders(context).load(id);
          if (order) context.requireOwner(order.userId, `order ${id}`);
          return order ?? null;
        },
        user: (order: Order) => ({ __typename: 'User', id: order.userId }),
      },
      OrderItem: {
        product: (item: OrderItem) => ({ __typename: 'Product', id: item.productId }),
      },
    },
    onStart: async () => {
      await book.seed();
    },
  };
};

export const ordersSubgraph: SubgraphFactory = ordersSubgraphOf();
