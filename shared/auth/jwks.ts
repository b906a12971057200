/**
 * The issuer's signing keys (JWKS), fetched over HTTP and kept: refreshed in the background once
 * older than the cache age, fetched again for an unknown `kid` (key rotation) at most once per
 * cooldown, and, while the endpoint is down (unreachable, 5xx, hanging), the last good set keeps
 * verifying tokens: an issuer outage is not an auth outage. Refetches back off (shared/retry).
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../logging';
import { singleMetric } from '../metrics';
import { Backoff, type BackoffPolicy } from '../retry';
import { SigningKeysUnavailableError } from './errors';

export interface RemoteKeySetOptions {
  url: string;
  /** One fetch fails after this long (a hanging endpoint). */
  timeoutMs: number;
  /** Keys older than this are refreshed in the background; the old ones serve meanwhile. */
  cacheMaxAgeMs: number;
  /** After a fetch, an unknown kid waits this long before it may cause another. */
  cooldownMs: number;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Waits between failed refreshes. */
  backoff?: BackoffPolicy;
  random?: () => number;
  fetch?: (url: string, init: { signal: AbortSignal; headers: Record<string, string> }) => Promise<Response>;
  logger?: Logger;
  registry?: Registry;
}

export const JWKS_BACKOFF: BackoffPolicy = { initialDelayMs: 1000, maxDelayMs: 60_000, multiplier: 2, jitter: 0.2 };

export class RemoteKeySet {
  private keys?: { lookup: JWTVerifyGetKey; fetchedAt: number };
  private inflight?: Promise<void>;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private retryAt = Number.NEGATIVE_INFINITY;
  private outageSince?: number;
  private lastFailure?: SigningKeysUnavailableError;
  private readonly backoff: Backoff;
  private readonly failures?: Counter<'reason'>;
  private readonly staleVerifications?: Counter;

  constructor(private readonly options: RemoteKeySetOptions) {
    this.backoff = new Backoff(options.backoff ?? JWKS_BACKOFF, options.random);
    if (options.registry) {
      const registry = options.registry;
      const registers = [registry];
      this.failures = singleMetric(registry, 'trellis_auth_jwks_refresh_failures_total', () => new Counter({ name: 'trellis_auth_jwks_refresh_failures_total', help: 'JWKS fetches that failed, by reason', labelNames: ['reason'], registers }));
      this.staleVerifications = singleMetric(registry, 'trellis_auth_jwks_stale_verifications_total', () => new Counter({ name: 'trellis_auth_jwks_stale_verifications_total', help: 'Key lookups answered from a key set past its cache age because the JWKS endpoint is down', registers }));
    }
  }

  /** jose's key lookup (`jwtVerify(token, keySet.getKey)`). */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const now = this.options.now();
    if (!this.keys) {
      if (now < this.retryAt) throw this.unavailable(`; next attempt in ${this.retryAt - now} ms`);
      await this.refresh();
      if (!this.keys) throw this.unavailable('');
    } else if (this.isStale(now)) {
      if (now >= this.retryAt) void this.refresh();
      if (this.outageSince !== undefined) this.staleVerifications?.inc();
    }
    try {
      return await this.keys!.lookup(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || !this.mayFetchForUnknownKid(now)) throw error;
      await this.refresh();
      return this.keys!.lookup(header, token);
    }
  };

  /** Resolves when no fetch is in flight (tests wait on a background refresh with it). */
  async settled(): Promise<void> {
    await this.inflight;
  }

  /** Whether the keys in use are past their cache age (being refreshed, or the endpoint is down). */
  isStale(now = this.options.now()): boolean {
    return this.keys !== undefined && now - this.keys.fetchedAt >= this.options.cacheMaxAgeMs;
  }

  private unavailable(suffix: string): SigningKeysUnavailableError {
    const last = this.lastFailure;
    return new SigningKeysUnavailableError(`${last?.detail ?? 'not fetched yet'}${suffix}`, last?.reason, last);
  }

  private mayFetchForUnknownKid(now: number): boolean {
    return now - this.lastAttemptAt >= this.options.cooldownMs && now >= this.retryAt;
  }

  /** One fetch at a time; never rejects: a failure is logged once per outage, counted, and backed off. */
  private refresh(): Promise<void> {
    this.inflight ??= this.fetchKeys().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async fetchKeys(): Promise<void> {
    const started = this.options.now();
    this.lastAttemptAt = started;
    try {
      const jwks = await this.download();
      this.keys = { lookup: createLocalJWKSet(jwks), fetchedAt: this.options.now() };
      this.backoff.reset();
      this.retryAt = Number.NEGATIVE_INFINITY;
      if (this.outageSince !== undefined) {
        this.options.logger?.info({ url: this.options.url, outageMs: this.options.now() - this.outageSince }, 'JWKS endpoint answers again; signing keys refreshed');
        this.outageSince = undefined;
      }
    } catch (error) {
      const failure = error instanceof SigningKeysUnavailableError ? error : new SigningKeysUnavailableError('answered a key set jose refuses', 'invalid', error);
      this.lastFailure = failure;
      const reason = failure.reason;
      this.failures?.inc({ reason });
      this.retryAt = this.options.now() + this.backoff.next();
      if (this.outageSince === undefined) {
        this.outageSince = started;
        this.options.logger?.warn(
          { url: this.options.url, err: error, reason, keptKeysFrom: this.keys ? new Date(this.keys.fetchedAt).toISOString() : null },
          this.keys ? 'JWKS endpoint failed; verifying with the last good signing keys until it answers' : 'JWKS endpoint failed and no signing keys were ever fetched: tokens cannot be verified',
        );
      }
    }
  }

  private async download(): Promise<JSONWebKeySet> {
    const fetchImpl = this.options.fetch ?? fetch;
    let response: Response;
    try {
      response = await fetchImpl(this.options.url, { signal: AbortSignal.timeout(this.options.timeoutMs), headers: { accept: 'application/json' } });
    } catch (error) {
      const timedOut = isTimeout(error);
      throw new SigningKeysUnavailableError(timedOut ? `no answer within ${this.options.timeoutMs} ms` : 'unreachable', timedOut ? 'timeout' : 'unreachable', error);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new SigningKeysUnavailableError(`answered HTTP ${response.status}`, 'status');
    }
    try {
      return (await response.json()) as JSONWebKeySet;
    } catch (error) {
      if (isTimeout(error)) throw new SigningKeysUnavailableError(`no answer within ${this.options.timeoutMs} ms`, 'timeout', error);
      throw new SigningKeysUnavailableError('answered a body that is not JSON', 'invalid', error);
    }
  }
}

// fetch rejects with a DOMException, which is not an `Error` instance.
function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}
