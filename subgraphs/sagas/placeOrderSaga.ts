/** The placeOrder saga: reserve stock (catalog), charge (payments), create the order (orders). */
import type { RetryPolicy, SagaDefinition, StepDeadlines } from '@trellis/kit/saga';

export interface PlaceOrderInput {
  orderId: string;
  userId: string;
  items: Array<{ productId: string; quantity: number; unitPrice: number }>;
  total: number;
  paymentMethod: string;
}

export interface PlaceOrderTimings {
  /** One attempt's timeout. */
  stepTimeoutMs: number;
  retry: RetryPolicy;
  /** How long each step's command and its compensation are retried; the kit's defaults where unset. */
  deadlines?: StepDeadlines;
}

/**
 * Each attempt 5 s, retried with backoff for 30 s (a buyer is waiting; a step given up is undone);
 * an undo is retried for the kit's day, so a participant down for a while delays it but never
 * leaves stock reserved or money taken for an order that does not exist.
 */
export const DEFAULT_TIMINGS: PlaceOrderTimings = {
  stepTimeoutMs: 5000,
  retry: { backoffMs: 200, maxBackoffMs: 2000 },
  deadlines: { commandMs: 30_000 },
};

export function placeOrderSaga(timings: PlaceOrderTimings = DEFAULT_TIMINGS): SagaDefinition<PlaceOrderInput> {
  const step = { timeoutMs: timings.stepTimeoutMs, retry: timings.retry };
  return {
    name: 'placeOrder',
    ...(timings.deadlines ? { deadlines: timings.deadlines } : {}),
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
