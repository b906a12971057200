/** The placeOrder saga: reserve stock (catalog), charge (payments), create the order (orders). */
import type { RetryPolicy, SagaDefinition } from '@trellis/kit/saga';

export interface PlaceOrderInput {
  orderId: string;
  userId: string;
  items: Array<{ productId: string; quantity: number; unitPrice: number }>;
  total: number;
  paymentMethod: string;
}

export interface PlaceOrderTimings {
  stepTimeoutMs: number;
  retry: RetryPolicy;
}

export const DEFAULT_TIMINGS: PlaceOrderTimings = {
  stepTimeoutMs: 5000,
  retry: { maxAttempts: 3, backoffMs: 200, maxBackoffMs: 2000 },
};

export function placeOrderSaga(timings: PlaceOrderTimings = DEFAULT_TIMINGS): SagaDefinition<PlaceOrderInput> {
  const step = { timeoutMs: timings.stepTimeoutMs, retry: timings.retry };
  return {
    name: 'placeOrder',
    steps: [
      {
        name: 'reserveStock',
        participant: 'catalog',
        command: 'reserveStock',
        compensation: 'releaseStock',
        payload: (input) => ({ items: input.items.map(({ productId, quantity }) => ({ productId, quantity })) }),
        ...step,
      },
      {
        name: 'chargePayment',
        participant: 'payments',
        command: 'charge',
        compensation: 'refund',
        payload: (input) => ({ orderId: input.orderId, userId: input.userId, amount: input.total, method: input.paymentMethod }),
        ...step,
      },
      {
        name: 'createOrder',
        participant: 'orders',
        command: 'createOrder',
        compensation: 'cancelOrder',
        payload: (input) => ({ id: input.orderId, userId: input.userId, items: input.items, total: input.total }),
        ...step,
      },
    ],
  };
}
