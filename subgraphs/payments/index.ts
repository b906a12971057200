/** The payments subgraph: what was charged for an order. Adds `Order.payment`; charges in the placeOrder saga. */
import type { SubgraphContext, SubgraphFactory } from '@trellis/kit';
import { CACHE_CONTROL, FEDERATION_LINK } from '../federation';
import { PaymentLedger, paymentSlotOf, type Payment } from './ledger';

export const typeDefs = /* GraphQL */ `
  ${FEDERATION_LINK}
  ${CACHE_CONTROL}

  type Order @key(fields: "id") @cacheControl(maxAge: 30, scope: PRIVATE) {
    id: ID!
    "Null when the order has no payment yet. Only to the user who placed the order; anyone else gets FORBIDDEN."
    payment: Payment @requiresScopes(scopes: [["payments:read"]])
  }

  type Payment @cacheControl(inheritMaxAge: true) {
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

/** The payments subgraph over `seed` (the example's payments by default). */
export const paymentsSubgraphOf = (seed?: readonly Payment[]): SubgraphFactory => ({ backends, guard }) => {
  const ledger = new PaymentLedger(backends.state, guard, undefined, seed);
  return {
    name: 'payments',
    typeDefs,
    participant: { name: 'payments', handlers: ledger.sagaHandlers(), slotOf: paymentSlotOf },
    resolvers: {
      Order: {
        __resolveReference: ({ id }: { id: string }) => ({ id }),
        payment: async ({ id }: { id: string }, _: unknown, context: SubgraphContext) => {
          const payment = await ledger.forOrder(id);
          if (payment) context.requireOwner(payment.userId, `the payment of order ${id}`);
          return payment ?? null;
        },
      },
    },
    onStart: async () => {
      await ledger.seed();
    },
  };
};

export const paymentsSubgraph: SubgraphFactory = paymentsSubgraphOf();
