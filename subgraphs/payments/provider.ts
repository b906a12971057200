/**
 * The payment provider the payments subgraph charges through: an outside system, so each capture
 * and refund goes through the saga kit's `once` (at most one call per saga step), and each capture
 * carries `once`'s idempotency key, which the provider deduplicates on as real providers do
 * (Stripe's `Idempotency-Key`): a capture repeated after the `once` record was lost answers the
 * first capture instead of charging again. The embedded provider keeps its books in the state
 * store, where tests can count what it captured.
 */
import { ErrorCode, TrellisError, type StateStore } from '@trellis/kit';

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
/**
 * A reference's captures and the captures its idempotency keys made share one hash tag, so a
 * capture is one atomic write of both on a Redis Cluster as on one Redis.
 */
export const providerCapturesKey = (reference: string) => `payments:provider:{${reference}}:captures`;
export const providerRefundsKey = (reference: string) => `payments:provider:refunds:${reference}`;
/** The capture an idempotency key made, kept as long as the books (a provider keeps keys for at least a day; this one longer than any saga). */
export const providerIdempotencyKey = (reference: string, key: string) => `payments:provider:{${reference}}:idempotency:${key}`;
/** Where captures were kept before they were one atomic write: still read, so an upgrade neither forgets a charge nor makes it twice. */
const legacyCapturesKey = (reference: string) => `payments:provider:captures:${reference}`;
const legacyIdempotencyKey = (key: string) => `payments:provider:idempotency:${key}`;
/** The claim the legacy layout wrote before it captured: not an answer. */
const LEGACY_IN_FLIGHT = 'in-flight';
/** Twins racing on one reference: each lost race reads again; this many lost in a row is a busy provider (retriable). */
const CAPTURE_ATTEMPTS = 20;

/** A provider stand-in that counts every call it gets, so a double charge shows. */
export class EmbeddedPaymentProvider implements PaymentProvider {
  constructor(private readonly state: StateStore) {}

  /**
   * The charge and the idempotency key's answer are written together or not at all: a capture cut
   * off anywhere (a killed process, Redis gone away) either charged and answers its twin with that
   * charge, or charged nothing and lets its twin charge. There is no "in progress" state to wait out
   * (an earlier claim-then-charge layout left one behind, and its twins were refused until it expired).
   */
  async capture(reference: string, amount: number, idempotencyKey: string): Promise<{ captureId: string }> {
    const keyed = providerIdempotencyKey(reference, idempotencyKey);
    const capturesKey = providerCapturesKey(reference);
    for (let attempt = 0; attempt < CAPTURE_ATTEMPTS; attempt++) {
      const [[answered, captures], legacyAnswer, legacyCaptures] = await Promise.all([
        this.state.getVersionedMany([keyed, capturesKey]),
        this.state.get(legacyIdempotencyKey(idempotencyKey)),
        this.state.get(legacyCapturesKey(reference)),
      ]);
      if (answered) return { captureId: answered.value };
      if (legacyAnswer && legacyAnswer !== LEGACY_IN_FLIGHT) return { captureId: legacyAnswer };
      const made = Number(captures?.value ?? 0) + 1;
      const captureId = `cap-${reference}-${Number(legacyCaptures ?? 0) + made}-${Math.round(amount * 100)}`;
      const committed = await this.state.compareAndSetMany([
        { key: capturesKey, expectedVersion: captures?.version ?? 0, value: String(made), ttlMs: YEAR_MS },
        { key: keyed, expectedVersion: 0, value: captureId, ttlMs: YEAR_MS },
      ]);
      if (committed) return { captureId };
    }
    throw new TrellisError(ErrorCode.BACKEND_UNAVAILABLE, `payment provider busy: ${CAPTURE_ATTEMPTS} captures on ${reference} raced this one`, { retriable: true });
  }

  async refund(reference: string): Promise<{ refunded: boolean }> {
    const books = await this.books(reference);
    if (books.captures <= books.refunds) return { refunded: false };
    await this.state.increment(providerRefundsKey(reference), YEAR_MS);
    return { refunded: true };
  }

  async books(reference: string): Promise<ProviderBooks> {
    const [captures, legacyCaptures, refunds] = await Promise.all([
      this.state.getVersioned(providerCapturesKey(reference)),
      this.state.get(legacyCapturesKey(reference)),
      this.state.get(providerRefundsKey(reference)),
    ]);
    return { captures: Number(captures?.value ?? 0) + Number(legacyCaptures ?? 0), refunds: Number(refunds ?? 0) };
  }
}
