/** Payments per order, kept in memory. */
export type PaymentState = 'PENDING' | 'AUTHORIZED' | 'CAPTURED' | 'DECLINED' | 'REFUNDED';

export interface Payment {
  id: string;
  orderId: string;
  amount: number;
  state: PaymentState;
}

const SEED: Payment[] = [
  { id: 'pay1', orderId: 'o1', amount: 29.99, state: 'CAPTURED' },
  { id: 'pay2', orderId: 'o2', amount: 54, state: 'CAPTURED' },
  { id: 'pay3', orderId: 'o3', amount: 29.25, state: 'AUTHORIZED' },
];

export class PaymentLedger {
  private readonly byOrder = new Map(SEED.map((payment) => [payment.orderId, { ...payment }]));

  forOrder(orderId: string): Payment | undefined {
    return this.byOrder.get(orderId);
  }
}
