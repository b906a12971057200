/**
 * OAUTHBEARER tokens for Kafka from an OAuth 2 client-credentials grant (RFC 6749 §4.4), as MSK,
 * Confluent Cloud and Strimzi issue them. Client-neutral: every Kafka client's adapter calls the
 * function at each (re)authentication, so a token is kept until shortly before it expires.
 */
import { BackendUnavailableError, ErrorCode, errorMessage, TrellisError } from '../../errors';

/**
 * The token endpoint refused the client (a 4xx: a wrong secret, an unknown client or scope): the
 * same credentials will not do better, so no client retries it (kafkajs bails on `retriable: false`).
 */
export class TokenRefusedError extends TrellisError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.BACKEND_UNAVAILABLE, `kafka: ${message}`, { retriable: false, cause });
  }
}

export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  /** Longest a token request may take (default 10 s). */
  timeoutMs?: number;
  /** Injected for tests; the platform's clock otherwise. */
  now?: () => number;
  fetch?: typeof fetch;
}

/** A token is renewed this long before it expires, so a connection never presents one that lapses mid-handshake. */
const RENEW_BEFORE_MS = 60_000;
/** When the provider says nothing of `expires_in`: renew after this. */
const DEFAULT_LIFETIME_MS = 5 * 60_000;

/** A function that resolves to a valid access token, asking the token endpoint only when the last one is (nearly) spent. */
export function clientCredentialsToken(options: ClientCredentials): () => Promise<string> {
  const now = options.now ?? Date.now;
  const send = options.fetch ?? fetch;
  let cached: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;

  const request = async (): Promise<string> => {
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (options.scope) body.set('scope', options.scope);
    const basic = Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64');
    let answer: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown };
    try {
      const response = await send(options.tokenUrl, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      // Any JSON at all (null, a string) or none: only an object's fields are read.
      const json: unknown = await response.json().catch(() => undefined);
      answer = json !== null && typeof json === 'object' ? (json as typeof answer) : {};
      if (!response.ok) {
        const reason = typeof answer.error === 'string' ? `${answer.error}${typeof answer.error_description === 'string' ? `: ${answer.error_description}` : ''}` : `HTTP ${response.status}`;
        const message = `cannot get an OAUTHBEARER token from ${options.tokenUrl}: ${reason}`;
        throw response.status >= 400 && response.status < 500 && response.status !== 429 ? new TokenRefusedError(message) : new BackendUnavailableError('kafka', message);
      }
    } catch (error) {
      if (error instanceof TrellisError) throw error;
      throw new BackendUnavailableError('kafka', `cannot get an OAUTHBEARER token from ${options.tokenUrl}: ${errorMessage(error)}`, error);
    }
    if (typeof answer.access_token !== 'string' || answer.access_token === '') {
      throw new BackendUnavailableError('kafka', `cannot get an OAUTHBEARER token from ${options.tokenUrl}: it answered without an access_token`);
    }
    const lifetimeMs = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in * 1000 : DEFAULT_LIFETIME_MS;
    cached = { token: answer.access_token, renewAt: now() + Math.max(lifetimeMs - RENEW_BEFORE_MS, lifetimeMs / 2) };
    return answer.access_token;
  };

  return () => {
    if (cached && now() < cached.renewAt) return Promise.resolve(cached.token);
    // Brokers authenticating at once share one request.
    pending ??= request().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}
