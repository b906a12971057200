/**
 * The verifier's remote key set, against a real JWKS endpoint: cached, fetched again when a token
 * names an unknown kid (key rotation), and not fetched again for every forged kid in a burst.
 */
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { createTokenVerifier } from '@trellis/kit';
import { listen } from '@trellis/kit/bff';

describe('remote JWKS', () => {
  let server: Server;
  let url: string;
  let fetches = 0;
  let published: Array<Record<string, unknown>> = [];
  const issuer = 'https://issuer.test';
  const settings = () => ({ issuer, audience: 'trellis', jwksUrl: url, algorithms: ['ES256'], clockToleranceSec: 5 });

  const makeKey = async (kid: string) => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
  };
  const sign = (key: { kid: string; privateKey: KeyLike }) =>
    new SignJWT({ scope: 'a' }).setProtectedHeader({ alg: 'ES256', kid: key.kid }).setIssuer(issuer).setAudience('trellis').setSubject('u1').setExpirationTime('10m').sign(key.privateKey);

  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: published }));
    });
    url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}/jwks`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches the keys once and serves later tokens from the cached set', async () => {
    const key = await makeKey('k1');
    published = [key.jwk];
    fetches = 0;
    const verifier = createTokenVerifier(settings(), { cacheSize: 0 }); // no result cache: every call uses the key set
    for (let i = 0; i < 5; i++) expect(await verifier.verify(await sign(key))).toEqual({ id: 'u1', scopes: ['a'] });
    expect(fetches).toBe(1);
  });

  it('fetches again for a token signed by a rotated-in key, once the cooldown allows', async () => {
    const old = await makeKey('old');
    published = [old.jwk];
    fetches = 0;
    const verifier = createTokenVerifier(settings(), { cacheSize: 0, cooldownMs: 0 });
    await verifier.verify(await sign(old));
    const rotated = await makeKey('new');
    published = [rotated.jwk, old.jwk];
    expect(await verifier.verify(await sign(rotated))).toEqual({ id: 'u1', scopes: ['a'] });
    expect(fetches).toBe(2);
    await verifier.verify(await sign(rotated));
    expect(fetches).toBe(2);
  });

  it('refuses a burst of tokens with unknown kids without fetching for each (rate-limited by the cooldown)', async () => {
    const known = await makeKey('known');
    published = [known.jwk];
    fetches = 0;
    const verifier = createTokenVerifier(settings(), { cacheSize: 0 });
    await verifier.verify(await sign(known));
    const strangers = await Promise.all(Array.from({ length: 20 }, (_, i) => makeKey(`stranger-${i}`)));
    const results = await Promise.allSettled(strangers.map(async (key) => verifier.verify(await sign(key))));
    expect(results.every((result) => result.status === 'rejected' && /unknown kid/.test(String(result.reason)))).toBe(true);
    expect(fetches).toBe(1);
  });
});
