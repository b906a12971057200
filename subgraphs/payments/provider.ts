/**
 * The payment provider the payments subgraph charges through: an outside system, so each capture
 * and refund goes through the saga kit's `once` (at most one call per saga step). The embedded
 * provider keeps its books in the state store, where tests can count what it captured.
 */
import type { StateStore } from '@trellis/kit';

export interface PaymentProvider {
  /** Captures `amount` under `reference` (the order id); resolves with the provider's capture id. */
  capture(reference: string, amount: number): Promise<{ captureId: string }>;
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

/** A provider stand-in that counts every call it gets, so a double charge shows. */
export class EmbeddedPaymentProvider implements PaymentProvider {
  constructor(private readonly state: StateStore) {}

  async capture(reference: string, amount: number): Promise<{ captureId: string }> {
    const { count } = await this.state.increment(providerCapturesKey(reference), YEAR_MS);
    return { captureId: `cap-${reference}-${count}-${Math.round(amount * 100)}` };
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
