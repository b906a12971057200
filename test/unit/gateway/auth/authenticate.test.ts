/**
 * The auth extension's token step: the caller it names, with when its token stops being accepted;
 * with the rate limit's `tokenAttempts`, a refused token counts against its address, and an address
 * over its limit has its tokens refused with RATE_LIMITED before the verifier is asked.
 */
import { GraphQLError } from 'graphql';
import { base64url } from 'jose';
import { AuthenticationError, SigningKeysUnavailableError, type TokenVerifier } from '@trellis/kit/internal/auth';
import { memoryRateLimiter } from '@trellis/kit/internal/ratelimit';
import { createLogger } from '@trellis/kit';
import type { GatewayContext } from '../../../../gateway/context';
import { auth } from '../../../../gateway/auth';
import { RateLimitedError, tokenAttempts } from '../../../../gateway/ratelimit';

const logger = createLogger({ service: 'test', level: 'silent' });
const settings = { issuer: 'https://issuer.test', audience: 'trellis', jwksUrl: 'https://issuer.test/jwks', algorithms: ['ES256'], clockToleranceSec: 5 };

/** A JWT's shape with these claims (the verifier below decides what is valid, not its signature). */
const jwt = (claims: Record<string, unknown>) => `${base64url.encode('{"alg":"ES256"}')}.${base64url.encode(JSON.stringify(claims))}.sig`;

function countingVerifier(valid: Record<string, { id: string; scopes: string[] }>, failure: () => Error = () => new AuthenticationError('token signature verification failed')) {
  const counted = { calls: 0 } as { calls: number } & TokenVerifier;
  counted.verify = async (token) => {
    counted.calls += 1;
    const identity = valid[token];
    if (!identity) throw failure();
    return identity;
  };
  return counted;
}

const contextAt = (clientAddress = '10.0.0.1'): GatewayContext => ({ correlationId: 'c', logger, forwardHeaders: {}, clientAddress });

async function authenticate(extension: ReturnType<typeof auth>, authorization: string | undefined, context = contextAt()) {
  await extension.extendContext!((name) => (name === 'authorization' ? authorization : undefined), context);
  return context;
}

async function refusal(promise: Promise<unknown>): Promise<GraphQLError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof GraphQLError)) throw new Error(`expected a GraphQLError, got ${String(error)}`);
  return error;
}

describe('auth extension: the token', () => {
  it('names the caller, and when its token stops being accepted: exp plus the clock tolerance', async () => {
    const token = jwt({ sub: 'u1', exp: 2_000_000_000 });
    const identity = { id: 'u1', scopes: ['a'] };
    const extension = auth({ settings, logger, verifier: countingVerifier({ [token]: identity }) });
    const context = await authenticate(extension, `Bearer ${token}`);
    expect(context.user).toEqual({ id: 'u1', scopes: ['a'], expiresAt: 2_000_000_005_000 });
    // The verifier's own object is left as it was (it hands the same one out for the token's next request).
    expect(identity).toEqual({ id: 'u1', scopes: ['a'] });
    const noTolerance = auth({ logger, verifier: countingVerifier({ [token]: identity }) });
    expect((await authenticate(noTolerance, `Bearer ${token}`)).user?.expiresAt).toBe(2_000_000_000_000);
  });

  it("gives each token its own expiry on every request, though a verifier hands out one identity for several", async () => {
    const early = jwt({ sub: 'u1', exp: 2_000_000_000 });
    const late = jwt({ sub: 'u1', exp: 2_000_000_100 });
    const shared = { id: 'u1', scopes: [] };
    const extension = auth({ logger, verifier: countingVerifier({ [early]: shared, [late]: shared }) });
    const expiries = [];
    for (const token of [early, early, late, late, early]) expiries.push((await authenticate(extension, `Bearer ${token}`)).user?.expiresAt);
    expect(expiries).toEqual([2_000_000_000_000, 2_000_000_000_000, 2_000_000_100_000, 2_000_000_100_000, 2_000_000_000_000]);
  });

  it('keeps no expiry for a token with no exp claim or that is no JWT (a verifier may accept such)', async () => {
    const withoutExp = jwt({ sub: 'u1' });
    const extension = auth({ settings, logger, verifier: countingVerifier({ [withoutExp]: { id: 'u1', scopes: [] }, opaque: { id: 'u2', scopes: [] } }) });
    expect((await authenticate(extension, `Bearer ${withoutExp}`)).user).toEqual({ id: 'u1', scopes: [] });
    expect((await authenticate(extension, 'Bearer opaque')).user).toEqual({ id: 'u2', scopes: [] });
    expect((await authenticate(extension, undefined)).user).toBeNull();
  });

  it('refuses a bad token with UNAUTHENTICATED and 401 when no rate limit is set', async () => {
    const verifier = countingVerifier({});
    const extension = auth({ settings, logger, verifier });
    for (let i = 0; i < 5; i++) {
      const error = await refusal(authenticate(extension, `Bearer bad-${i}`));
      expect(error.extensions).toEqual({ code: 'UNAUTHENTICATED', http: { status: 401 } });
    }
    expect(verifier.calls).toBe(5);
  });

  describe('with the rate limit', () => {
    const limited = (verifier: TokenVerifier, limit = 3) => auth({ settings, logger, verifier, attempts: tokenAttempts({ limiter: memoryRateLimiter({ name: 'gateway', limit, windowSec: 60 }), logger }) });

    it('counts refused tokens against the address, then refuses its tokens with RATE_LIMITED without verifying them', async () => {
      const valid = jwt({ sub: 'u1', exp: 2_000_000_000 });
      const verifier = countingVerifier({ [valid]: { id: 'u1', scopes: [] } });
      const extension = limited(verifier);
      for (let i = 0; i < 3; i++) expect((await refusal(authenticate(extension, `Bearer forged-${i}`))).extensions.code).toBe('UNAUTHENTICATED');
      const error = await refusal(authenticate(extension, 'Bearer forged-3'));
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 60, http: { status: 429 } });
      // A header that is not even "Bearer <token>", and a valid token, from that address: refused unverified too.
      expect(await refusal(authenticate(extension, 'Basic dTpw'))).toBeInstanceOf(RateLimitedError);
      expect(await refusal(authenticate(extension, `Bearer ${valid}`))).toBeInstanceOf(RateLimitedError);
      expect(verifier.calls).toBe(3);
      // Another address verifies as before; an anonymous caller is not refused here (the rate limit itself counts it).
      expect((await authenticate(extension, `Bearer ${valid}`, contextAt('10.0.0.2'))).user?.id).toBe('u1');
      expect((await authenticate(extension, undefined)).user).toBeNull();
      expect(verifier.calls).toBe(4);
    });

    it('counts a malformed Authorization header as a refused token', async () => {
      const verifier = countingVerifier({});
      const extension = limited(verifier, 1);
      expect((await refusal(authenticate(extension, 'Basic dTpw'))).extensions.code).toBe('UNAUTHENTICATED');
      expect(await refusal(authenticate(extension, 'Bearer forged'))).toBeInstanceOf(RateLimitedError);
      expect(verifier.calls).toBe(0);
    });

    it('never counts a valid token, nor an issuer outage (503), against the address', async () => {
      const valid = jwt({ sub: 'u1', exp: 2_000_000_000 });
      const extension = limited(countingVerifier({ [valid]: { id: 'u1', scopes: [] } }), 1);
      for (let i = 0; i < 3; i++) expect((await authenticate(extension, `Bearer ${valid}`)).user?.id).toBe('u1');
      const down = limited(countingVerifier({}, () => new SigningKeysUnavailableError('connection refused')), 1);
      for (let i = 0; i < 3; i++) expect((await refusal(authenticate(down, `Bearer t${i}`))).extensions).toEqual({ code: 'BACKEND_UNAVAILABLE', http: { status: 503 } });
    });
  });
});
