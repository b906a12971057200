/**
 * Verifies access tokens (JWTs) against the issuer's JWKS with jose: signature by an allow-listed
 * asymmetric algorithm, issuer, audience, expiry and not-before with a small clock tolerance.
 * The gateway and every subgraph verify with the same settings.
 */
import { decodeProtectedHeader, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Registry } from 'prom-client';
import type { Logger } from '../logging';
import type { CallerIdentity } from '../subgraph/context';
import { AuthenticationError, describeTokenFailure } from './errors';
import { RemoteKeySet, type RemoteKeySetOptions } from './jwks';

export interface AuthSettings {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** Only asymmetric algorithms: a symmetric one would let a holder of the public key sign tokens. */
  algorithms: string[];
  clockToleranceSec: number;
  /** One JWKS fetch fails after this long (AUTH_JWKS_TIMEOUT_MS; default 3000). */
  jwksTimeoutMs?: number;
  /** Keys older than this are refreshed in the background (AUTH_JWKS_CACHE_MAX_AGE_S; default 600 s). */
  jwksCacheMaxAgeSec?: number;
}

export interface TokenVerifier {
  /** The caller the token names; throws AuthenticationError saying which check failed. */
  verify(token: string): Promise<CallerIdentity>;
}

export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface VerifierOptions {
  /** Tests pass a key set; otherwise the issuer's JWKS is fetched. */
  keys?: JWTVerifyGetKey;
  /** Milliseconds since the epoch: the cache's clock and jose's (exp, nbf, iat). */
  now?: () => number;
  /** Verified tokens remembered (by their exact text) until they expire; 0 turns it off. */
  cacheSize?: number;
  /** After fetching the key set, no new fetch (even for an unknown kid) for this long. */
  cooldownMs?: number;
  /** The key set's HTTP client, backoff and jitter (tests). */
  jwks?: Pick<RemoteKeySetOptions, 'fetch' | 'backoff' | 'random'>;
  /** Told once per JWKS outage, and when it ends. */
  logger?: Logger;
  /** Where the JWKS refresh-failure and stale-key counters are registered. */
  registry?: Registry;
}

/** How long a verified token is trusted without checking it again, at most (it also ends at `exp`). */
const CACHE_TTL_MS = 60_000;

export function createTokenVerifier(settings: AuthSettings, options: VerifierOptions = {}): TokenVerifier {
  const { keys, now = Date.now, cacheSize = 10_000, cooldownMs = 30_000, logger, registry } = options;
  const unsafe = settings.algorithms.filter((alg) => !ASYMMETRIC_ALGORITHMS.includes(alg));
  if (unsafe.length > 0) throw new Error(`only asymmetric token algorithms may be allowed, not ${unsafe.join(', ')}`);
  const jwks =
    keys ??
    new RemoteKeySet({
      url: settings.jwksUrl,
      timeoutMs: settings.jwksTimeoutMs ?? 3000,
      cacheMaxAgeMs: (settings.jwksCacheMaxAgeSec ?? 600) * 1000,
      cooldownMs,
      now,
      logger,
      registry,
      ...options.jwks,
    }).getKey;
  // Signature checks are most of the cost of a request with a token (an ECDSA verify each), and a
  // client sends the same token on every request: a verified token is remembered until it expires.
  const verified = new Map<string, { identity: CallerIdentity; until: number }>();
  const remember = (token: string, identity: CallerIdentity, exp: number) => {
    if (cacheSize <= 0) return;
    if (verified.size >= cacheSize) verified.delete(verified.keys().next().value as string);
    verified.set(token, { identity, until: Math.min(exp * 1000 + settings.clockToleranceSec * 1000, now() + CACHE_TTL_MS) });
  };
  return {
    async verify(token) {
      const known = verified.get(token);
      if (known && known.until > now()) return known.identity;
      if (known) verified.delete(token);
      let alg: string | undefined;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch (error) {
        throw new AuthenticationError(`malformed token: ${error instanceof Error ? error.message : String(error)}`, error);
      }
      if (!alg || !settings.algorithms.includes(alg)) {
        throw new AuthenticationError(`token algorithm "${alg ?? 'missing'}" is not allowed (allowed: ${settings.algorithms.join(', ')})`);
      }
      try {
        const { payload } = await jwtVerify(token, jwks, {
          issuer: settings.issuer,
          audience: settings.audience,
          algorithms: settings.algorithms,
          clockTolerance: settings.clockToleranceSec,
          currentDate: new Date(now()),
          requiredClaims: ['sub', 'exp'],
        });
        const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : Array.isArray(payload.scopes) ? payload.scopes.map(String) : [];
        const identity = { id: payload.sub as string, scopes };
        remember(token, identity, payload.exp as number);
        return identity;
      } catch (error) {
        throw describeTokenFailure(error);
      }
    },
  };
}

/** The token of an `Authorization: Bearer <token>` header; null when there is none. */
export function bearerToken(authorization: string | undefined): string | null {
  if (!authorization) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw new AuthenticationError('Authorization header must be "Bearer <token>"');
  return match[1];
}
