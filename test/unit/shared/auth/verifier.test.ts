/**
 * The token verifier: the checks a token must pass (algorithm allow-list, issuer, audience, exp and
 * nbf with the clock tolerance, required claims), the claims it reads (`scope`, `scopes`), its
 * cache of verified tokens, and the Bearer header parsing. Time is the injected clock.
 */
import { exportJWK, generateKeyPair, SignJWT, createLocalJWKSet, base64url, type JWTVerifyGetKey, type KeyLike } from 'jose';
import { Registry } from 'prom-client';
import { bearerToken, createTokenVerifier, AuthenticationError } from '@trellis/kit/internal/auth';

const settings = { issuer: 'https://issuer.test', audience: 'trellis', jwksUrl: 'https://issuer.test/jwks', algorithms: ['ES256'], clockToleranceSec: 5 };

describe('createTokenVerifier', () => {
  let keys: JWTVerifyGetKey;
  let lookups: number;
  let privateKey: KeyLike;
  let clock: number;
  const nowSec = () => clock / 1000;
  /** A token as the issuer makes it, with `changes` applied (claims set to undefined are left out). */
  const sign = (changes: { exp?: number; nbf?: number; scope?: unknown; scopes?: unknown; iss?: string; aud?: string; sub?: string | null; alg?: string; noExp?: boolean } = {}) => {
    const claims: Record<string, unknown> = {};
    if ('scope' in changes) claims.scope = changes.scope;
    else if (!('scopes' in changes)) claims.scope = 'a b';
    if ('scopes' in changes) claims.scopes = changes.scopes;
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: changes.alg ?? 'ES256', kid: 'k1' }).setIssuer(changes.iss ?? settings.issuer).setAudience(changes.aud ?? 'trellis').setIssuedAt(nowSec());
    if (changes.sub !== null) jwt.setSubject(changes.sub ?? 'u1');
    if (!changes.noExp) jwt.setExpirationTime(changes.exp ?? nowSec() + 3600);
    if (changes.nbf !== undefined) jwt.setNotBefore(changes.nbf);
    return jwt.sign(privateKey);
  };
  const verifierWith = (options: { cacheSize?: number; clockToleranceSec?: number } = {}) =>
    createTokenVerifier({ ...settings, clockToleranceSec: options.clockToleranceSec ?? settings.clockToleranceSec }, { keys, now: () => clock, cacheSize: options.cacheSize });

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const local = createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] });
    keys = (...args) => (lookups++, local(...args));
  });
  beforeEach(() => {
    lookups = 0;
    clock = Math.floor(Date.now() / 1000) * 1000; // whole seconds, as exp and nbf are
  });

  describe('the cache of verified tokens', () => {
    it('verifies once, then answers the same token from its cache', async () => {
      const verifier = verifierWith();
      const token = await sign();
      expect(await verifier.verify(token)).toEqual({ id: 'u1', scopes: ['a', 'b'] });
      expect(await verifier.verify(token)).toEqual({ id: 'u1', scopes: ['a', 'b'] });
      expect(lookups).toBe(1);
    });

    it('never trusts a cached token past exp plus the tolerance', async () => {
      const verifier = verifierWith();
      const token = await sign({ exp: nowSec() + 30 });
      await verifier.verify(token);
      clock += 34_999; // still within exp + 5 s: from the cache
      await verifier.verify(token);
      expect(lookups).toBe(1);
      clock += 1; // exactly exp + tolerance: verified again, and jose (same clock) says expired
      await expect(verifier.verify(token)).rejects.toThrow('token expired (exp is in the past)');
      expect(lookups).toBe(2);
    });

    it('trusts a cached token for 60 s at most, even when it expires much later', async () => {
      const verifier = verifierWith();
      const token = await sign();
      await verifier.verify(token);
      clock += 59_999;
      await verifier.verify(token);
      expect(lookups).toBe(1);
      clock += 1;
      await verifier.verify(token);
      expect(lookups).toBe(2);
      await verifier.verify(token);
      expect(lookups).toBe(2); // remembered again after the new check
    });

    it('cacheSize 0 turns the cache off', async () => {
      const verifier = verifierWith({ cacheSize: 0 });
      const token = await sign();
      await verifier.verify(token);
      await verifier.verify(token);
      expect(lookups).toBe(2);
    });

    it('holds cacheSize tokens, dropping the oldest for a new one', async () => {
      const verifier = verifierWith({ cacheSize: 2 });
      const [first, second, third] = [await sign({ sub: 'a' }), await sign({ sub: 'b' }), await sign({ sub: 'c' })];
      await verifier.verify(first);
      await verifier.verify(second);
      await verifier.verify(first);
      await verifier.verify(second);
      expect(lookups).toBe(2); // both fit
      await verifier.verify(third); // evicts `first`
      expect(lookups).toBe(3);
      await verifier.verify(second);
      expect(lookups).toBe(3);
      expect(await verifier.verify(first)).toEqual({ id: 'a', scopes: ['a', 'b'] });
      expect(lookups).toBe(4);
    });

    it('does not remember a refused token', async () => {
      const verifier = verifierWith();
      const token = await sign({ aud: 'other' });
      await expect(verifier.verify(token)).rejects.toThrow(AuthenticationError);
      await expect(verifier.verify(token)).rejects.toThrow(AuthenticationError);
      expect(lookups).toBe(2);
    });
  });

  describe('clock tolerance (AUTH_CLOCK_TOLERANCE_S)', () => {
    it('accepts a token expired less than the tolerance ago, refuses one expired exactly the tolerance ago', async () => {
      const verifier = verifierWith({ cacheSize: 0 });
      expect(await verifier.verify(await sign({ exp: nowSec() - 4 }))).toEqual({ id: 'u1', scopes: ['a', 'b'] });
      await expect(verifier.verify(await sign({ exp: nowSec() - 5 }))).rejects.toThrow('token expired (exp is in the past)');
    });

    it('accepts a token valid from up to the tolerance ahead, refuses one further ahead', async () => {
      const verifier = verifierWith({ cacheSize: 0 });
      expect(await verifier.verify(await sign({ nbf: nowSec() + 5 }))).toEqual({ id: 'u1', scopes: ['a', 'b'] });
      await expect(verifier.verify(await sign({ nbf: nowSec() + 6 }))).rejects.toThrow('token claim check failed: token not yet valid (nbf is in the future)');
    });

    it('with no tolerance, a token is expired at its exp second', async () => {
      const verifier = verifierWith({ cacheSize: 0, clockToleranceSec: 0 });
      expect(await verifier.verify(await sign({ exp: nowSec() + 1 }))).toBeDefined();
      await expect(verifier.verify(await sign({ exp: nowSec() }))).rejects.toThrow('token expired');
    });
  });

  describe('claims', () => {
    it.each([
      ['space-separated scope, extra spaces ignored', { scope: ' read  write ' }, ['read', 'write']],
      ['a scopes array, items as strings', { scopes: ['read', 7] }, ['read', '7']],
      ['scope wins over scopes', { scope: 'one', scopes: ['two'] }, ['one']],
      ['an empty scope', { scope: '' }, []],
      ['neither claim', { scope: undefined }, []],
      ['scope that is not a string, no scopes', { scope: 42 }, []],
      ['scopes that is not an array', { scope: undefined, scopes: 'read' }, []],
    ])('%s', async (_name, claims, scopes) => {
      expect(await verifierWith().verify(await sign(claims))).toEqual({ id: 'u1', scopes });
    });

    it.each([
      ['wrong issuer', { iss: 'https://evil.test' }, 'token claim check failed: issuer (iss) is not the accepted issuer'],
      ['wrong audience', { aud: 'another-api' }, 'token claim check failed: audience (aud) does not include this service'],
      ['no subject', { sub: null }, 'token claim check failed: subject (sub) is missing'],
      ['no expiry', { noExp: true }, 'token claim check failed: exp missing'],
    ])('refuses a token with %s', async (_name, changes, message) => {
      const refused = await verifierWith().verify(await sign(changes as never)).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(AuthenticationError);
      expect(refused).toMatchObject({ message, code: 'UNAUTHENTICATED', httpStatus: 401, retriable: false });
    });
  });

  describe('algorithms', () => {
    const unsigned = (header: Record<string, unknown>) => `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify({ sub: 'u1', iss: settings.issuer, aud: 'trellis', exp: nowSec() + 60 }))}.`;

    it('refuses alg none before any key lookup', async () => {
      await expect(verifierWith().verify(unsigned({ alg: 'none' }))).rejects.toThrow('token algorithm "none" is not allowed (allowed: ES256)');
      expect(lookups).toBe(0);
    });

    it('refuses a token with no alg', async () => {
      await expect(verifierWith().verify(unsigned({ typ: 'JWT' }))).rejects.toThrow('token algorithm "missing" is not allowed (allowed: ES256)');
    });

    it('refuses an asymmetric algorithm that is not in the allow-list', async () => {
      const { privateKey: rsa } = await generateKeyPair('RS256');
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('u1').setExpirationTime('1h').sign(rsa);
      await expect(verifierWith().verify(token)).rejects.toThrow('token algorithm "RS256" is not allowed (allowed: ES256)');
    });

    it('refuses what is not a JWT at all', async () => {
      await expect(verifierWith().verify('not-a-token')).rejects.toThrow(/^malformed token: /);
    });

    it('refuses a symmetric algorithm (or none) in its settings, naming them', () => {
      expect(() => createTokenVerifier({ ...settings, algorithms: ['ES256', 'HS256', 'none'] })).toThrow('only asymmetric token algorithms may be allowed, not HS256, none');
      for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']) {
        expect(() => createTokenVerifier({ ...settings, algorithms: [alg] })).not.toThrow();
      }
    });
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc', 'abc'],
    ['BEARER abc', 'abc'],
    ['Bearer    abc', 'abc'],
    ['Bearer abc   ', 'abc'],
    ['Bearer\tabc', 'abc'],
  ])('reads %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it.each([[undefined], ['']])('no header (%j) is anonymous', (header) => {
    expect(bearerToken(header)).toBeNull();
  });

  it.each([['Bearer'], ['Bearer '], ['Basic dXNlcjpwYXNz'], ['abc'], ['Bearer a b'], [' Bearer abc'], ['Bearerabc']])('refuses %j', (header) => {
    expect(() => bearerToken(header)).toThrow(new AuthenticationError('Authorization header must be "Bearer <token>"'));
  });
});

describe('createTokenVerifier with the issuer’s JWKS', () => {
  let clock: number;
  let fetched: string[];
  let answer: () => Promise<Response>;
  let privateKey: KeyLike;
  let jwk: Record<string, unknown>;
  const jwksOptions = () => ({ now: () => clock, cacheSize: 0, jwks: { fetch: async (url: string) => (fetched.push(url), answer()), random: () => 0 } });
  const sign = () => new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(settings.issuer).setAudience('trellis').setSubject('u1').setExpirationTime(Math.floor(clock / 1000) + 7 * 24 * 3600).sign(privateKey);

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  });
  beforeEach(() => {
    clock = Math.floor(Date.now() / 1000) * 1000;
    fetched = [];
    answer = async () => new Response(JSON.stringify({ keys: [jwk] }), { status: 200 });
  });

  it('fetches AUTH_JWKS_URL and refreshes after 600 s by default', async () => {
    const verifier = createTokenVerifier(settings, jwksOptions());
    await verifier.verify(await sign());
    expect(fetched).toEqual([settings.jwksUrl]);
    clock += 599_999;
    await verifier.verify(await sign());
    expect(fetched).toHaveLength(1);
    clock += 1;
    await verifier.verify(await sign());
    expect(fetched).toHaveLength(2);
  });

  it('takes the cache age and the timeout from its settings', async () => {
    const verifier = createTokenVerifier({ ...settings, jwksCacheMaxAgeSec: 10, jwksTimeoutMs: 1234 }, jwksOptions());
    await verifier.verify(await sign());
    clock += 10_000;
    answer = async () => Promise.reject(new DOMException('timed out', 'TimeoutError'));
    await verifier.verify(await sign()); // stale keys serve; the refresh fails in the background
    expect(fetched).toHaveLength(2);
    const fresh = createTokenVerifier({ ...settings, jwksTimeoutMs: 1234 }, jwksOptions());
    await expect(fresh.verify(await sign())).rejects.toThrow('(no answer within 1234 ms)');
  });

  it('times a fetch out after 3000 ms by default, and counts on the registry it is given', async () => {
    const registry = new Registry();
    answer = async () => Promise.reject(new DOMException('timed out', 'TimeoutError'));
    const verifier = createTokenVerifier(settings, { ...jwksOptions(), registry });
    await expect(verifier.verify(await sign())).rejects.toThrow('(no answer within 3000 ms)');
    expect((await registry.getSingleMetric('trellis_auth_jwks_refresh_failures_total')!.get()).values).toEqual([expect.objectContaining({ value: 1, labels: { reason: 'timeout' } })]);
  });

  it('an unknown kid waits out the 30 s cooldown by default', async () => {
    const verifier = createTokenVerifier(settings, jwksOptions());
    await verifier.verify(await sign());
    const stranger = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k2' }).setIssuer(settings.issuer).setAudience('trellis').setSubject('u1').setExpirationTime('1h').sign(privateKey);
    clock += 29_999;
    await expect(verifier.verify(stranger)).rejects.toThrow('no signing key matches the token (unknown kid)');
    expect(fetched).toHaveLength(1);
    clock += 1;
    await expect(verifier.verify(stranger)).rejects.toThrow('no signing key matches the token (unknown kid)');
    expect(fetched).toHaveLength(2);
  });
});
