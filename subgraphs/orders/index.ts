/** The orders subgraph: what people ordered. Owns `Order`; adds `User.orders`. */
import type { SubgraphOptions } from '../../shared';
import { FEDERATION_LINK } from '../federation';
import { OrderBook, type Order, type OrderItem } from './orderBook';

export const typeDefs = /* GraphQL */ `
  ${FEDERATION_LINK}

  type User @key(fields: "id") {
    id: ID!
    "Newest first."
    orders: [Order!]!
  }

  type Order @key(fields: "id") {
    id: ID!
    user: User!
    items: [OrderItem!]!
    total: Float!
    status: OrderStatus!
  }

  type OrderItem {
    product: Product!
    quantity: Int!
  }

  type Product @key(fields: "id", resolvable: false) {
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

export function ordersSubgraph(book = new OrderBook()): SubgraphOptions {
  return {
    name: 'orders',
    typeDefs,
    resolvers: {
      User: {
        orders: ({ id }: { id: string }) => book.byUser(id),
      },
      Order: {
        __resolveReference: ({ id }: { id: string }) => book.find(id) ?? null,
        user: (order: Order) => ({ __typename: 'User', id: order.userId }),
      },
      OrderItem: {
        product: (item: OrderItem) => ({ __typename: 'Product', id: item.productId }),
      },
    },
  };
}
