/**
 * Payments per order, in the state store. A charge is written once per order (never two for one
 * saga); a refund flips it to REFUNDED. Declined cards and amounts over the limit are refused.
 */
import type { ChangeAnnouncement, Guard, StateStore } from '@trellis/kit';
import type { VersionedValue } from '@trellis/kit';
import { SagaRefusal, type SagaCommand, type SagaHandler } from '@trellis/kit/saga';
import { EmbeddedPaymentProvider, type PaymentProvider } from './provider';

export type PaymentState = 'PENDING' | 'AUTHORIZED' | 'CAPTURED' | 'DECLINED' | 'REFUNDED';

export interface Payment {
  id: string;
  orderId: string;
  /** Who placed the order: the only caller the payment is shown to. */
  userId: string;
  amount: number;
  state: PaymentState;
  sagaId?: string;
  /** The provider's id of the capture. */
  captureId?: string;
}

/** Charges above this are refused (a stand-in for a card limit). */
export const CHARGE_LIMIT = 5000;
export const DECLINED_METHOD = 'card-declined';

const SEED: Payment[] = [
  { id: 'pay1', orderId: 'o1', userId: 'u1', amount: 29.99, state: 'CAPTURED' },
  { id: 'pay2', orderId: 'o2', userId: 'u1', amount: 54, state: 'CAPTURED' },
  { id: 'pay3', orderId: 'o3', userId: 'u2', amount: 29.25, state: 'AUTHORIZED' },
];

/** A payment is one record per order, in a slot of its own on Redis Cluster, where its saga step's dedupe records go too (`paymentSlotOf`). */
export const paymentSlot = (orderId: string) => `{payment:${orderId}}`;
export const paymentKey = (orderId: string) => `payments:order:${paymentSlot(orderId)}`;
/** The participant's `slotOf`: a charge and its refund both name the order. */
export const paymentSlotOf = (command: SagaCommand) => paymentSlot((command.payload as { orderId: string }).orderId);

/** A capture or refund changes what `Order.payment` answers for that order (announced after the commit). */
const paymentChange = (orderId: string): ChangeAnnouncement => ({ type: 'Order', key: { id: orderId }, fields: ['payment'] });

export class PaymentLedger {
  private readonly read: (key: string) => Promise<VersionedValue | null>;
  readonly provider: PaymentProvider;

  /** `seedPayments`: the payments written at start when missing (the example's three by default; the gateway bench brings its own). */
  constructor(
    private readonly state: StateStore,
    guard?: Guard,
    provider?: PaymentProvider,
    private readonly seedPayments: readonly Payment[] = SEED,
  ) {
    const read = (key: string) => state.getVersioned(key);
    this.read = guard ? guard('state-store', read) : read;
    this.provider = provider ?? new EmbeddedPaymentProvider(state);
  }

  async seed(): Promise<void> {
    await Promise.all(this.seedPayments.map((payment) => this.state.compareAndSet(paymentKey(payment.orderId), 0, JSON.stringify(payment))));
  }

  async forOrder(orderId: string): Promise<Payment | undefined> {
    const stored = await this.read(paymentKey(orderId));
    return stored ? (JSON.parse(stored.value) as Payment) : undefined;
  }

  sagaHandlers(): Record<string, SagaHandler> {
    const charge = async (payload: { orderId: string; userId: string; amount: number; method: string }, { read, command, once }: Parameters<SagaHandler>[1]) => {
      if (payload.method === DECLINED_METHOD) throw new SagaRefusal('card declined');
      if (payload.amount > CHARGE_LIMIT) throw new SagaRefusal(`amount ${payload.amount} is over the limit of ${CHARGE_LIMIT}`);
      const existing = await read(paymentKey(payload.orderId));
      if (existing) return { result: { paymentId: (JSON.parse(existing.value) as Payment).id } };
      // The provider is outside the state store: charged at most once, however often this re-runs,
      // and, since it deduplicates on once's key, even if the once record was lost. For the same
      // reason a capture an earlier run started and never finished is asked again (repeatable):
      // the provider answers the first capture, or captures now if it never happened.
      const { captureId } = await once('capture', (key) => this.provider.capture(payload.orderId, payload.amount, key), { repeatable: true });
      const payment: Payment = { id: `pay-${payload.orderId}`, orderId: payload.orderId, userId: payload.userId, amount: payload.amount, state: 'CAPTURED', sagaId: command.sagaId, captureId };
      return {
        writes: [{ key: paymentKey(payload.orderId), expectedVersion: 0, value: JSON.stringify(payment) }],
        result: { paymentId: payment.id },
        changes: [paymentChange(payload.orderId)],
      };
    };
    const refund = async (payload: { orderId: string }, { read, once }: Parameters<SagaHandler>[1]) => {
      // Asks the provider even with no payment recorded: a charge whose outcome was unknown may have captured.
      // A refund is safe to repeat (the provider refunds only what is still captured under the reference).
      const { refunded } = await once('refund', () => this.provider.refund(payload.orderId), { repeatable: true });
      const stored = await read(paymentKey(payload.orderId));
      if (!stored) return { result: { refunded } };
      const payment = JSON.parse(stored.value) as Payment;
      if (payment.state !== 'CAPTURED') return { result: { refunded } };
      return {
        writes: [{ key: paymentKey(payload.orderId), expectedVersion: stored.version, value: JSON.stringify({ ...payment, state: 'REFUNDED' }) }],
        result: { refunded },
        changes: [paymentChange(payload.orderId)],
      };
    };
    return { charge: charge as SagaHandler, refund: refund as SagaHandler };
  }
}
