/**
 * The payment provider the payments subgraph charges through: an outside system, so each capture
 * and refund goes through the saga kit's `once` (at most one call per saga step), and each capture
 * carries `once`'s idempotency key, which the provider deduplicates on as real providers do
 * (Stripe's `Idempotency-Key`): a capture repeated after the `once` record was lost answers the
 * first capture instead of charging again. The embedded provider keeps its books in the state
 * store, where tests can count what it captured.
 */
import type { StateStore } from '@trellis/kit';

export interface PaymentProvider {
  /**
   * Captures `amount` under `reference` (the order id); resolves with the provider's capture id.
   * The same `idempotencyKey` again answers the first capture's id and captures nothing.
   */
  capture(reference: string, amount: number, idempotencyKey: string): Promise<{ captureId: string }>;
  /** Refunds what was captured under `reference`, if anything; resolves with whether it refunded. */
  refund(reference: string): Promise<{ refunded: boolean }>;
}

export interface ProviderBooks {
  captures: number;
  refunds: number;
}

const YEAR_MS = 365 * 24 * 3600_000;
export const providerCapturesKey = (reference: string) => `payments:provider:captures:${reference}`;
export const providerRefundsKey = (reference: string) => `payments:provider:refunds:${reference}`;
/** The capture an idempotency key made, kept as long as the books (a provider keeps keys for at least a day; this one longer than any saga). */
export const providerIdempotencyKey = (key: string) => `payments:provider:idempotency:${key}`;
const IN_FLIGHT = 'in-flight';
const IN_FLIGHT_MS = 30_000;

/** A provider stand-in that counts every call it gets, so a double charge shows. */
export class EmbeddedPaymentProvider implements PaymentProvider {
  constructor(private readonly state: StateStore) {}

  async capture(reference: string, amount: number, idempotencyKey: string): Promise<{ captureId: string }> {
    const keyed = providerIdempotencyKey(idempotencyKey);
    // The claim lasts as long as a capture can take: a process killed between claim and answer leaves no key stuck.
    if (!(await this.state.setIfAbsent(keyed, IN_FLIGHT, { ttlMs: IN_FLIGHT_MS }))) {
      const first = await this.state.get(keyed);
      // As a real provider answers a request whose twin is still being processed (Stripe: 409): try again later.
      if (first === IN_FLIGHT || first === null) throw new Error(`a capture with idempotency key ${idempotencyKey} is in progress`);
      return { captureId: first };
    }
    const { count } = await this.state.increment(providerCapturesKey(reference), YEAR_MS);
    const captureId = `cap-${reference}-${count}-${Math.round(amount * 100)}`;
    await this.state.set(keyed, captureId, { ttlMs: YEAR_MS });
    return { captureId };
  }

  async refund(reference: string): Promise<{ refunded: boolean }> {
    const books = await this.books(reference);
    if (books.captures <= books.refunds) return { refunded: false };
    await this.state.increment(providerRefundsKey(reference), YEAR_MS);
    return { refunded: true };
  }

  async books(reference: string): Promise<ProviderBooks> {
    const [captures, refunds] = await Promise.all([this.state.get(providerCapturesKey(reference)), this.state.get(providerRefundsKey(reference))]);
    return { captures: Number(captures ?? 0), refunds: Number(refunds ?? 0) };
  }
}
