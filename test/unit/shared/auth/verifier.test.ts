/** The token verifier's cache: a verified token is not checked again until it expires, and never past `exp`. */
import { exportJWK, generateKeyPair, SignJWT, createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import { createTokenVerifier } from '../../../../shared/auth';

const settings = { issuer: 'https://issuer.test', audience: 'trellis', jwksUrl: 'https://issuer.test/jwks', algorithms: ['ES256'], clockToleranceSec: 5 };

describe('createTokenVerifier', () => {
  let keys: JWTVerifyGetKey;
  let lookups: number;
  let sign: (expSec: number, scope?: string) => Promise<string>;
  let clock: number;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const local = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] });
    keys = (...args) => (lookups++, local(...args));
    sign = (expSec, scope = 'a b') =>
      new SignJWT({ scope }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(settings.issuer).setAudience('trellis').setSubject('u1').setIssuedAt(Math.floor(clock / 1000)).setExpirationTime(expSec).sign(privateKey);
  });
  beforeEach(() => {
    lookups = 0;
    clock = Date.now();
  });

  it('verifies once, then answers the same token from its cache', async () => {
    const verifier = createTokenVerifier(settings, { keys, now: () => clock });
    const token = await sign(Math.floor(clock / 1000) + 3600);
    expect(await verifier.verify(token)).toEqual({ id: 'u1', scopes: ['a', 'b'] });
    expect(await verifier.verify(token)).toEqual({ id: 'u1', scopes: ['a', 'b'] });
    expect(lookups).toBe(1);
  });

  it('never trusts a cached token past its expiry', async () => {
    const verifier = createTokenVerifier(settings, { keys, now: () => clock });
    const token = await sign(Math.floor(clock / 1000) + 30);
    await verifier.verify(token);
    clock += 40_000; // past exp + tolerance: jose checks with the same injected clock
    expect(lookups).toBe(1);
    await expect(verifier.verify(token)).rejects.toThrow('token expired (exp is in the past)');
    expect(lookups).toBe(2); // verified again, not served from the cache
  });

  it('refuses a symmetric algorithm in its settings', () => {
    expect(() => createTokenVerifier({ ...settings, algorithms: ['HS256'] })).toThrow(/asymmetric/);
  });
});
