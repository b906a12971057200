/**
 * Every kind of bad token, each as a named case with the exact status and error the client gets,
 * at the gateway and straight at a subgraph (which verifies again with the same rules). The
 * issuer's JWKS is a real endpoint here that a case can make answer 500 or hang.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { base64url, exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import type { Subgraph, SubgraphFactory } from '@trellis/kit';
import { listen } from '@trellis/kit/bff';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { FEDERATION_LINK } from '../../../subgraphs/federation';
import { eventually, parseSseEvents, postGraphQL } from '../../support/graphql';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';

const sdl = `
  ${FEDERATION_LINK}
  type Query { me: Viewer @authenticated hello: String }
  type Viewer { id: ID! }
`;
const viewerSubgraph: SubgraphFactory = () => ({
  name: 'viewer',
  typeDefs: sdl,
  resolvers: { Query: { me: (_: unknown, __: unknown, context: { user?: { id: string } | null }) => (context.user ? { id: context.user.id } : null), hello: () => 'hi' } },
});

const ALLOWED = 'ES256, RS256, PS256, EdDSA'; // AUTH_ALGORITHMS' default
const now = () => Math.floor(Date.now() / 1000);

interface Issuer {
  iss: string;
  kid: string;
  privateKey: KeyLike;
  jwk: JWK;
}

async function makeIssuer(iss: string, kid: string): Promise<Issuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { iss, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/** A JWKS endpoint whose answer a case switches between the keys, a 500 and no answer at all. */
async function startJwks(keys: () => JWK[]) {
  const state = { mode: 'ok' as 'ok' | '500' | 'hang', requests: 0 };
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((_req, res) => {
    state.requests += 1;
    if (state.mode === 'hang') return void hanging.push(res);
    if (state.mode === '500') return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"unavailable"}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: keys() }));
  });
  const url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}/.well-known/jwks.json`;
  return {
    url,
    state,
    stop: () =>
      new Promise<void>((resolve) => {
        hanging.forEach((res) => res.destroy());
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('bad tokens', () => {
  let issuer: Issuer;
  let stranger: Issuer;
  let jwks: Awaited<ReturnType<typeof startJwks>>;
  let env: Record<string, string>;
  let subgraph: Subgraph;
  let gateway: InProcessGateway;

  /** A token as our issuer signs it, with `claims` over the defaults; `key` signs it. */
  const token = (claims: Record<string, unknown> = {}, key: Issuer = issuer, header: Record<string, unknown> = {}) =>
    new SignJWT({ scope: '', iss: issuer.iss, aud: 'trellis', sub: 'u1', iat: now(), exp: now() + 600, ...claims }).setProtectedHeader({ alg: 'ES256', kid: key.kid, ...header }).sign(key.privateKey);
  const unsigned = (header: Record<string, unknown>, payload: Record<string, unknown>, signature = '') =>
    `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.${signature}`;

  beforeAll(async () => {
    issuer = await makeIssuer('https://login.trellis.test', 'k1');
    stranger = await makeIssuer('https://login.elsewhere.test', 'other-1');
    jwks = await startJwks(() => [issuer.jwk]);
    env = { AUTH_ISSUER: issuer.iss, AUTH_JWKS_URL: jwks.url, AUTH_JWKS_TIMEOUT_MS: '300' };
    subgraph = await startSubgraph(viewerSubgraph, env);
    const composed = composeSupergraph([{ name: 'viewer', sdl, url: subgraph.url }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    const supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-badtokens-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
    env.SUPERGRAPH_PATH = supergraphPath;
    gateway = await startGateway(env);
    await eventually(async () => expect((await postGraphQL(gateway.url, '{ hello }')).body).toEqual({ data: { hello: 'hi' } }), 10_000);
  });
  afterAll(async () => {
    await gateway?.stop();
    await subgraph?.stop();
    await jwks?.stop();
  });
  beforeEach(() => {
    jwks.state.mode = 'ok';
  });

  const refused = (message: string) => ({ status: 401, body: { errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] } });
  const cases: Array<[string, () => Promise<string>, string]> = [
    ['alg none', async () => unsigned({ alg: 'none' }, { sub: 'u1', iss: issuer.iss, aud: 'trellis', exp: now() + 600 }), `token algorithm "none" is not allowed (allowed: ${ALLOWED})`],
    [
      'HS256 signed with the public key (key confusion)',
      async () => {
        const header = { alg: 'HS256', typ: 'JWT', kid: issuer.kid };
        const payload = { sub: 'u1', iss: issuer.iss, aud: 'trellis', exp: now() + 600 };
        const signingInput = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
        return `${signingInput}.${createHmac('sha256', JSON.stringify(issuer.jwk)).update(signingInput).digest('base64url')}`;
      },
      `token algorithm "HS256" is not allowed (allowed: ${ALLOWED})`,
    ],
    [
      'tampered payload (scopes added after signing)',
      async () => {
        const [header, , signature] = (await token()).split('.');
        return `${header}.${base64url.encode(JSON.stringify({ sub: 'u1', iss: issuer.iss, aud: 'trellis', exp: now() + 600, scope: 'admin' }))}.${signature}`;
      },
      'token signature verification failed',
    ],
    ['expired', () => token({ exp: now() - 60 }), 'token expired (exp is in the past)'],
    ['not yet valid', () => token({ nbf: now() + 3600 }), 'token claim check failed: token not yet valid (nbf is in the future)'],
    ['wrong iss', () => token({ iss: 'https://evil.test' }), 'token claim check failed: issuer (iss) is not the accepted issuer'],
    ['wrong aud', () => token({ aud: 'another-api' }), 'token claim check failed: audience (aud) does not include this service'],
    ['no sub', () => token({ sub: undefined }), 'token claim check failed: subject (sub) is missing'],
    ['unknown kid', () => token({}, issuer, { kid: 'never-published' }), 'no signing key matches the token (unknown kid)'],
    ['a token of another issuer, with its key', () => token({ iss: stranger.iss }, stranger), 'no signing key matches the token (unknown kid)'],
    ["another issuer's key passed off under our kid", () => token({}, { ...stranger, kid: issuer.kid }), 'token signature verification failed'],
    ['not a JWT', async () => 'not.a.jwt', expect.stringMatching(/^malformed token: /) as unknown as string],
  ];

  describe('at the gateway', () => {
    it.each(cases)('%s: 401 UNAUTHENTICATED', async (_name, make, message) => {
      const { status, body } = await postGraphQL(gateway.url, '{ hello me { id } }', { headers: { authorization: `Bearer ${await make()}` } });
      expect({ status, body }).toEqual(refused(message));
    });

    it('no token: anonymous, so the @authenticated field is null with FORBIDDEN and the rest is served', async () => {
      const { status, body } = await postGraphQL(gateway.url, '{ hello me { id } }');
      expect({ status, body }).toEqual({
        status: 200,
        body: { data: { hello: 'hi', me: null }, errors: [{ message: 'Unauthorized field: me requires an authenticated caller', path: ['me'], extensions: { code: 'FORBIDDEN' } }] },
      });
    });

    it('an Authorization header that is not "Bearer <token>": 401', async () => {
      for (const authorization of ['Basic dTE6cGFzcw==', 'Bearer', 'Bearer a b']) {
        const { status, body } = await postGraphQL(gateway.url, '{ hello }', { headers: { authorization } });
        expect({ status, body }).toEqual(refused('Authorization header must be "Bearer <token>"'));
      }
    });

    it('a valid token is served (the cases above fail for their reason only)', async () => {
      const { status, body } = await postGraphQL(gateway.url, '{ me { id } }', { headers: { authorization: `Bearer ${await token({ sub: 'u7' })}` } });
      expect({ status, body }).toEqual({ status: 200, body: { data: { me: { id: 'u7' } } } });
    });

    it('a token in the query string is ignored (tokens in URLs end up in logs): the caller is anonymous, on POST, GET and SSE', async () => {
      const valid = await token();
      const anonymous = { data: { me: null }, errors: [{ message: 'Unauthorized field: me requires an authenticated caller', path: ['me'], extensions: { code: 'FORBIDDEN' } }] };
      for (const param of ['access_token', 'token', 'authorization']) {
        const posted = await postGraphQL(`${gateway.url}?${param}=${valid}`, '{ me { id } }');
        expect({ status: posted.status, body: posted.body }).toEqual({ status: 200, body: anonymous });
        const got = await fetch(`${gateway.url}?query=${encodeURIComponent('{ me { id } }')}&${param}=${valid}`, { headers: { 'apollo-require-preflight': 'true' } });
        expect([got.status, await got.json()]).toEqual([200, anonymous]);
      }
      const sse = await fetch(`${gateway.url}?query=${encodeURIComponent('{ me { id } }')}&access_token=${valid}`, { headers: { accept: 'text/event-stream' } });
      expect(parseSseEvents(await sse.text())).toEqual([{ event: 'next', data: anonymous }, { event: 'complete', data: undefined }]);
    });

    it('over SSE a bad token is the same 401 JSON answer, before any stream opens', async () => {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${await token({ exp: now() - 60 })}` },
        body: JSON.stringify({ query: '{ me { id } }' }),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.json()).toEqual({ errors: [{ message: 'token expired (exp is in the past)', extensions: { code: 'UNAUTHENTICATED' } }] });
    });
  });

  describe('at a subgraph reached directly', () => {
    it.each(cases)('%s: 401 UNAUTHENTICATED', async (_name, make, message) => {
      const { status, body } = await postGraphQL(subgraph.url, '{ me { id } }', { headers: { authorization: `Bearer ${await make()}` } });
      expect({ status, body }).toEqual(refused(message));
    });
  });

  describe('when the JWKS endpoint fails', () => {
    /** A gateway that has never fetched the keys: the first token makes it fetch. */
    const freshGateway = () => startGateway(env);

    it('answering 500 with no keys yet: 503 BACKEND_UNAVAILABLE, retriable, not a 401 that would make the client drop its token', async () => {
      jwks.state.mode = '500';
      const fresh = await freshGateway();
      try {
        const { status, body } = await postGraphQL(fresh.url, '{ me { id } }', { headers: { authorization: `Bearer ${await token()}` } });
        expect({ status, body }).toEqual({
          status: 503,
          body: { errors: [{ message: "token cannot be verified now: the issuer's signing keys are unavailable (answered HTTP 500); retry later", extensions: { code: 'BACKEND_UNAVAILABLE' } }] },
        });
        // Anonymous callers do not need the keys and are still served.
        expect((await postGraphQL(fresh.url, '{ hello }')).body).toEqual({ data: { hello: 'hi' } });
      } finally {
        await fresh.stop();
      }
    });

    it('hanging with no keys yet: the request fails at AUTH_JWKS_TIMEOUT_MS (300 ms, measured) with 503', async () => {
      jwks.state.mode = 'hang';
      const fresh = await freshGateway();
      try {
        const started = performance.now();
        const { status, body } = await postGraphQL(fresh.url, '{ me { id } }', { headers: { authorization: `Bearer ${await token()}` } });
        const elapsed = performance.now() - started;
        expect({ status, body }).toEqual({
          status: 503,
          body: { errors: [{ message: "token cannot be verified now: the issuer's signing keys are unavailable (no answer within 300 ms); retry later", extensions: { code: 'BACKEND_UNAVAILABLE' } }] },
        });
        expect(elapsed).toBeGreaterThanOrEqual(290);
        expect(elapsed).toBeLessThan(2000);
      } finally {
        await fresh.stop();
      }
    });

    it('answering 500 past the cache age with keys already fetched: tokens keep verifying (stale-if-error)', async () => {
      const shortCache = await startGateway({ ...env, AUTH_JWKS_CACHE_MAX_AGE_S: '1' });
      try {
        const ask = async () => postGraphQL(shortCache.url, '{ me { id } }', { headers: { authorization: `Bearer ${await token({ sub: `u-${Math.random()}` })}` } });
        expect((await ask()).status).toBe(200); // keys fetched
        jwks.state.mode = '500';
        const before = jwks.state.requests;
        // New tokens (so none is answered from the verified-token cache) until the gateway has asked the failing endpoint again.
        await eventually(async () => {
          const { status, body } = await ask();
          expect(status).toBe(200);
          expect(body.errors).toBeUndefined();
          expect(jwks.state.requests).toBeGreaterThan(before);
        }, 10_000, 100);
        const after = await ask();
        expect([after.status, after.body.errors]).toEqual([200, undefined]);
      } finally {
        await shortCache.stop();
      }
    });
  });
});
