/** The dev identity provider `npm start` runs: its JWKS, the tokens it mints, and what it refuses. */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { DevIdentityProvider } from '@trellis/kit/internal/auth';
import { createLogger } from '@trellis/kit/internal/logging';

describe('DevIdentityProvider', () => {
  const lines: Array<{ msg: string; issuer?: string }> = [];
  const provider = new DevIdentityProvider({ issuer: 'http://idp.test', audience: 'trellis', logger: createLogger({ service: 'idp', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } }) });
  let base: string;
  const post = (body: unknown, contentType = 'application/json') =>
    fetch(`${base}/token`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('refuses to mint before it started (no keys)', async () => {
    await expect(provider.mint('u1')).rejects.toThrow('identity provider not started');
  });

  describe('started', () => {
    let jwks: JSONWebKeySet;
    beforeAll(async () => {
      base = `http://127.0.0.1:${await provider.start(0)}`;
      jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    });
    afterAll(() => provider.stop());

    it('says it serves, and is ready once it has keys', async () => {
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'dev identity provider serving', issuer: 'http://idp.test' }));
      expect(await (await fetch(`${base}/health/live`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${base}/health/ready`);
      expect([ready.status, await ready.json()]).toEqual([200, { status: 'ok' }]);
    });

    it('publishes one ES256 signing key, cacheable for 5 minutes, without its private part', async () => {
      const response = await fetch(`${base}/.well-known/jwks.json`);
      expect(response.headers.get('cache-control')).toBe('public, max-age=300');
      expect(response.headers.get('x-powered-by')).toBeNull(); // no framework banner
      expect(jwks.keys).toHaveLength(1);
      expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) });
      expect(jwks.keys[0]).not.toHaveProperty('d');
    });

    it('mints a token that verifies against its JWKS, with the OAuth 2 scope claim', async () => {
      const response = await post({ sub: 'ada', scopes: ['users:email', 'orders:write'], ttl: 120 });
      const body = (await response.json()) as { access_token: string; token_type: string; expires_in: number; scope: string };
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 120, scope: 'users:email orders:write' });
      expect(decodeProtectedHeader(body.access_token)).toEqual({ alg: 'ES256', kid: jwks.keys[0].kid, typ: 'JWT' });
      const { payload } = await jwtVerify(body.access_token, createLocalJWKSet(jwks), { issuer: 'http://idp.test', audience: 'trellis' });
      expect(payload).toMatchObject({ sub: 'ada', scope: 'users:email orders:write' });
      expect(payload.exp! - payload.iat!).toBe(120);
      expect(payload.jti).toEqual(expect.any(String));
    });

    it('defaults to no scopes and one hour', async () => {
      const body = (await (await post({ sub: 'ada' })).json()) as { access_token: string; expires_in: number; scope: string };
      expect([body.expires_in, body.scope]).toEqual([3600, '']);
      const { payload } = await jwtVerify(body.access_token, createLocalJWKSet(jwks));
      expect(payload.exp! - payload.iat!).toBe(3600);
    });

    it('mints with overrides for tests of the claim checks', async () => {
      const token = await provider.mint('u1', ['a'], 60, { issuer: 'http://other.test', audience: 'other', notBefore: 2_000_000_000 });
      const { payload } = await jwtVerify(token, createLocalJWKSet(jwks)).catch((error: { payload: unknown }) => ({ payload: error.payload })); // refused: nbf is in 2033
      expect(payload).toMatchObject({ iss: 'http://other.test', aud: 'other', nbf: 2_000_000_000, scope: 'a' });
    });

    it.each([
      ['no subject', {}, 'sub: Required'],
      ['an empty subject', { sub: '' }, 'sub: String must contain at least 1 character(s)'],
      ['a subject over 200 characters', { sub: 'x'.repeat(201) }, 'sub: String must contain at most 200 character(s)'],
      ['a scope with a space', { sub: 'a', scopes: ['a b'] }, 'scopes.0: letters, digits and : . - _ only'],
      ['more than 50 scopes', { sub: 'a', scopes: Array.from({ length: 51 }, (_, i) => `s${i}`) }, 'scopes: Array must contain at most 50 element(s)'],
      ['a ttl of 0', { sub: 'a', ttl: 0 }, 'ttl: Number must be greater than or equal to 1'],
      ['a ttl over a day', { sub: 'a', ttl: 24 * 3600 + 1 }, 'ttl: Number must be less than or equal to 86400'],
      ['a fractional ttl', { sub: 'a', ttl: 1.5 }, 'ttl: Expected integer, received float'],
      ['an unknown field', { sub: 'a', admin: true }, "body: Unrecognized key(s) in object: 'admin'"],
    ])('refuses %s with 400 invalid_request naming the field', async (_name, body, description) => {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'invalid_request', error_description: description });
    });

    it('accepts the limits themselves', async () => {
      expect((await post({ sub: 'x'.repeat(200), scopes: Array.from({ length: 50 }, (_, i) => `s${i}`), ttl: 24 * 3600 })).status).toBe(200);
      expect((await post({ sub: 'a', ttl: 1 })).status).toBe(200);
    });

    it('answers a body that is not JSON, or too large, as invalid_request JSON, never an HTML page', async () => {
      const broken = await post('{not json');
      expect(broken.status).toBe(400);
      expect(await broken.json()).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
      const large = await post({ sub: 'a', pad: 'x'.repeat(17 * 1024) });
      expect(large.status).toBe(413);
      expect(await large.json()).toEqual({ error: 'invalid_request', error_description: 'request entity too large' });
    });
  });
});
