/** The payments subgraph: what was charged for an order. Adds `Order.payment`. */
import type { SubgraphOptions } from '../../shared';
import { FEDERATION_LINK } from '../federation';
import { PaymentLedger } from './ledger';

export const typeDefs = /* GraphQL */ `
  ${FEDERATION_LINK}

  type Order @key(fields: "id") {
    id: ID!
    "Null when the order has no payment yet."
    payment: Payment
  }

  type Payment {
    id: ID!
    amount: Float!
    state: PaymentState!
  }

  enum PaymentState {
    PENDING
    AUTHORIZED
    CAPTURED
    DECLINED
    REFUNDED
  }
`;

export function paymentsSubgraph(ledger = new PaymentLedger()): SubgraphOptions {
  return {
    name: 'payments',
    typeDefs,
    resolvers: {
      Order: {
        __resolveReference: ({ id }: { id: string }) => ({ id }),
        payment: ({ id }: { id: string }) => ledger.forOrder(id) ?? null,
      },
    },
  };
}
