/**
 * Authentication and field authorization at the gateway: every kind of bad token is refused with
 * 401 UNAUTHENTICATED naming the failed check, and `@authenticated` / `@requiresScopes` fields
 * come back null with a FORBIDDEN error at their path, without the subgraph being asked.
 */
import { generateKeyPair, SignJWT, base64url } from 'jose';
import { createHmac } from 'node:crypto';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { DevHubServer } from '@trellis/kit/internal/devhub';
import { InMemoryDiscovery } from '@trellis/kit/testing';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { InMemoryEventBus } from '@trellis/kit/testing';
import type { Subgraph } from '@trellis/kit';
import { usersSubgraph } from '../../../subgraphs/users';
import { ordersSubgraph } from '../../../subgraphs/orders';
import { paymentsSubgraph } from '../../../subgraphs/payments';
import { catalogSubgraph } from '../../../subgraphs/catalog';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import { startTestIdentity, type TestIdentity } from '../../support/identity';
import { eventually, postGraphQL, postGraphQLSse } from '../../support/graphql';
import { metricSum } from '../../support/metrics';
import * as restrictModule from '../../../gateway/auth/restrict';

describe('gateway auth', () => {
  let hub: DevHubServer;
  let identity: TestIdentity;
  let gateway: InProcessGateway;
  const subgraphs: Subgraph[] = [];

  beforeAll(async () => {
    hub = new DevHubServer({
      targets: { discovery: new InMemoryDiscovery({ healthIntervalMs: 500 }), state: new InMemoryStateStore(), events: new InMemoryEventBus() },
    });
    identity = await startTestIdentity();
    const env = { TRELLIS_DEVHUB_URL: await hub.start(), ...identity.env };
    for (const factory of [usersSubgraph, ordersSubgraph, paymentsSubgraph, catalogSubgraph]) subgraphs.push(await startSubgraph(factory, env));
    gateway = await startGateway(env);
    await eventually(async () => expect((await postGraphQL(gateway.url, '{ users { id } product(id: "p1") { id } }')).body.errors).toBeUndefined(), 20_000);
  });

  afterAll(async () => {
    await gateway?.stop();
    for (const subgraph of subgraphs) await subgraph.stop();
    await identity?.stop();
    await hub?.stop();
  });

  const asBearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const query = (q: string, headers: Record<string, string> = {}) => postGraphQL(gateway.url, q, { headers });

  describe('bad tokens: 401 UNAUTHENTICATED saying which check failed', () => {
    const claims = { scope: '' };
    const signed = async (build: (jwt: SignJWT) => SignJWT) => {
      const { privateKey } = await generateKeyPair('ES256');
      return build(new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'x' }).setSubject('u1').setIssuedAt().setExpirationTime('1h')).sign(privateKey);
    };

    const cases: Array<[string, () => Promise<string>, RegExp]> = [
      ['alg none', async () => `${base64url.encode(JSON.stringify({ alg: 'none' }))}.${base64url.encode(JSON.stringify({ sub: 'u1', iss: identity.issuer, aud: 'trellis', exp: 9e9 }))}.`, /algorithm "none" is not allowed/],
      [
        'HS256 signed with the public key',
        async () => {
          const jwks = (await (await fetch(`${identity.issuer}/.well-known/jwks.json`)).json()) as { keys: Array<{ x: string }> };
          const header = base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
          const payload = base64url.encode(JSON.stringify({ sub: 'u1', iss: identity.issuer, aud: 'trellis', exp: Math.floor(Date.now() / 1000) + 600 }));
          const signature = createHmac('sha256', JSON.stringify(jwks.keys[0])).update(`${header}.${payload}`).digest('base64url');
          return `${header}.${payload}.${signature}`;
        },
        /algorithm "HS256" is not allowed/,
      ],
      [
        'tampered payload',
        async () => {
          const [header, , signature] = (await identity.token('u2')).split('.');
          const payload = base64url.encode(JSON.stringify({ sub: 'u1', iss: identity.issuer, aud: 'trellis', exp: Math.floor(Date.now() / 1000) + 600, scope: 'payments:read' }));
          return `${header}.${payload}.${signature}`;
        },
        /signature verification failed/,
      ],
      ['signed by another key', () => signed((jwt) => jwt.setIssuer(identity.issuer).setAudience('trellis')), /no signing key matches|signature verification failed/],
      ['wrong issuer', () => identity.token('u1', [], 600, { issuer: 'https://evil.example' }), /issuer \(iss\)/],
      ['expired', () => identity.token('u1', [], -120), /expired/],
      ['malformed', async () => 'not.a.jwt', /malformed token/],
    ];

    it.each(cases)('%s', async (_name, make, message) => {
      const { status, body } = await query('{ users { id } }', asBearer(await make()));
      expect(status).toBe(401);
      expect(body.data).toBeUndefined();
      expect(body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      expect(body.errors?.[0].message).toMatch(message);
      expect(JSON.stringify(body)).not.toContain('stacktrace');
    });

    it('names the audience and not-before checks', async () => {
      const other = await identity.token('u1', [], 600, { audience: 'someone-else' });
      expect((await query('{ users { id } }', asBearer(other))).body.errors?.[0].message).toMatch(/audience \(aud\)/);
      const early = await identity.token('u1', [], 7200, { notBefore: Math.floor(Date.now() / 1000) + 3600 });
      expect((await query('{ users { id } }', asBearer(early))).body.errors?.[0].message).toMatch(/not yet valid/);
    });

    it('is checked again by every subgraph: a forged token sent straight to one is refused there too', async () => {
      const forged = `${(await identity.token('u1')).slice(0, -4)}AAAA`;
      const { status, body } = await postGraphQL(subgraphs[0].url, '{ me { id } }', { headers: asBearer(forged) });
      expect(status).toBe(401);
      expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
      const honest = await postGraphQL(subgraphs[0].url, '{ me { id } }', { headers: await identity.bearer('u2') });
      expect(honest.body.data).toEqual({ me: { id: 'u2' } });
    });

    it.each(['application/graphql-response+json', 'application/json'])('keeps 401 under %s, in that media type (GraphQL-over-HTTP: a refusal outside GraphQL keeps its status)', async (accept) => {
      const { status, headers, body } = await query('{ users { id } }', { ...asBearer('not.a.jwt'), accept });
      expect({ status, type: headers.get('content-type'), code: body.errors?.[0].extensions?.code, data: body.data }).toEqual({
        status: 401,
        type: `${accept}; charset=utf-8`,
        code: 'UNAUTHENTICATED',
        data: undefined,
      });
    });

    it('refuses a header that is not "Bearer <token>"', async () => {
      const { status, body } = await query('{ users { id } }', { authorization: 'Basic dTE6cGFzcw==' });
      expect(status).toBe(401);
      expect(body.errors?.[0].message).toMatch(/Bearer/);
    });
  });

  describe('@authenticated and @requiresScopes', () => {
    it.each(['application/graphql-response+json', 'application/json'])('answers a field the caller may not see with 200 and partial data under %s (an execution error, not a request error)', async (accept) => {
      const { status, headers, body } = await query('{ me { id } users { id } }', { accept });
      expect({ status, type: headers.get('content-type'), users: (body.data as { users?: unknown[] } | undefined)?.users?.length, me: (body.data as { me?: unknown } | undefined)?.me }).toEqual({
        status: 200,
        type: `${accept}; charset=utf-8`,
        users: 3,
        me: null,
      });
      expect(body.errors).toEqual([expect.objectContaining({ path: ['me'], extensions: { code: 'FORBIDDEN' } })]);
    });

    it('serves me to a signed-in caller and nulls it, with FORBIDDEN at its path, for an anonymous one', async () => {
      expect((await query('{ me { id name } }', await identity.bearer('u3'))).body).toEqual({ data: { me: { id: 'u3', name: expect.any(String) } } });
      const anonymous = await query('{ me { id } users { id } }');
      expect(anonymous.status).toBe(200);
      expect(anonymous.body.data).toEqual({ me: null, users: [{ id: 'u1' }, { id: 'u2' }, { id: 'u3' }] });
      expect(anonymous.body.errors).toEqual([expect.objectContaining({ path: ['me'], extensions: { code: 'FORBIDDEN' } })]);
    });

    it('User.email needs users:email: with it the value, without it null up to the nearest nullable parent', async () => {
      const withScope = await query('{ user(id: "u1") { name email } }', await identity.bearer('u1', ['users:email']));
      expect(withScope.body.data).toEqual({ user: { name: 'Ada Lovelace', email: expect.stringContaining('@') } });
      const without = await query('{ user(id: "u1") { name email } }', await identity.bearer('u1', ['payments:read']));
      // email is String!, so its null takes the whole (nullable) user, as GraphQL's null propagation does.
      expect(without.body.data).toEqual({ user: null });
      expect(without.body.errors?.[0]).toMatchObject({ path: ['user', 'email'], extensions: { code: 'FORBIDDEN' }, message: expect.stringMatching(/users:email/) });
    });

    it('a field inside a named fragment is refused at its response path, exactly as the same field inline', async () => {
      const headers = await identity.bearer('u1', ['payments:read']);
      const inline = await query('{ me { id name email } }', headers);
      const viaFragment = await query('{ me { ...U } } fragment U on User { id name email }', headers);
      expect(inline.body).toEqual({ data: { me: null }, errors: [expect.objectContaining({ path: ['me', 'email'], extensions: { code: 'FORBIDDEN' } })] });
      expect(viaFragment.body).toEqual(inline.body);
    });

    it('Order.payment needs payments:read, on every order of a list, and the payments subgraph is never asked', async () => {
      const q = '{ user(id: "u1") { orders { total payment { state } } } }';
      const reader = await query(q, await identity.bearer('u1', ['payments:read']));
      expect(reader.body.data).toEqual({ user: { orders: [{ total: 54, payment: { state: 'CAPTURED' } }, { total: 29.99, payment: { state: 'CAPTURED' } }] } });

      const fetchesBefore = await paymentsFetches();
      const other = await query(q, await identity.bearer('u1'));
      expect(other.body.data).toEqual({ user: { orders: [{ total: 54, payment: null }, { total: 29.99, payment: null }] } });
      expect(other.body.errors).toEqual([expect.objectContaining({ path: ['user', 'orders', '@', 'payment'], extensions: { code: 'FORBIDDEN' } })]);
      expect(await paymentsFetches()).toBe(fetchesBefore);
    });

    it('applies on WebSocket and SSE too: the same nulls and errors, and the same limits', async () => {
      const sse = async (q: string, headers: Record<string, string> = {}) => {
        const { events } = await postGraphQLSse(gateway.url, q, { headers });
        return events.find((e) => e.event === 'next')!.data as { data?: unknown; errors?: Array<{ path?: unknown; extensions?: { code?: string } }> };
      };
      // Signed in as the owner but without payments:read (an anonymous caller gets no orders at all).
      const anonymous = await sse('{ user(id: "u1") { orders { payment { state } } } }', await identity.bearer('u1'));
      expect(anonymous.data).toEqual({ user: { orders: [{ payment: null }, { payment: null }] } });
      expect(anonymous.errors?.[0]).toMatchObject({ path: ['user', 'orders', '@', 'payment'], extensions: { code: 'FORBIDDEN' } });
      const reader = await sse('{ user(id: "u1") { orders { payment { state } } } }', await identity.bearer('u1', ['payments:read']));
      expect(reader).toEqual({ data: { user: { orders: [{ payment: { state: 'CAPTURED' } }, { payment: { state: 'CAPTURED' } }] } } });
      // The reader's plan is kept now: a caller without the scope still gets the restricted one.
      const again = await sse('{ user(id: "u1") { orders { payment { state } } } }', await identity.bearer('u1'));
      expect(again).toEqual(anonymous);
      const deep = await sse(`{ user(id: "u1") { ${'orders { user { '.repeat(7)}id${' } }'.repeat(7)} } }`);
      expect(deep.errors?.[0].extensions?.code).toBe('QUERY_TOO_DEEP');

      const client = createClient({ url: gateway.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
      try {
        const results = [];
        for await (const result of client.iterate({ query: '{ me { id } users { id } }' })) results.push(result);
        expect(results).toEqual([{ data: { me: null, users: [{ id: 'u1' }, { id: 'u2' }, { id: 'u3' }] }, errors: [expect.objectContaining({ path: ['me'], extensions: { code: 'FORBIDDEN' } })] }]);
      } finally {
        await client.dispose();
      }
    });

    it('restricts a document once per scope set, not on every request', async () => {
      const walks = jest.spyOn(restrictModule, 'restrictDocument');
      try {
        const q = '{ user(id: "u2") { id email } }';
        // email is non-null: its null takes the user with it.
        const forbidden = { data: { user: null }, errors: [expect.objectContaining({ path: ['user', 'email'], extensions: { code: 'FORBIDDEN' } })] };
        for (const user of ['u1', 'u3', 'u1']) expect((await query(q, await identity.bearer(user))).body).toEqual(forbidden);
        expect(walks).toHaveBeenCalledTimes(1);
        const allowed = await query(q, await identity.bearer('u2', ['users:email']));
        expect(allowed.body).toEqual({ data: { user: { id: 'u2', email: expect.any(String) } } });
        expect(walks).toHaveBeenCalledTimes(2);
        expect((await query(q, await identity.bearer('u2'))).body).toEqual(forbidden);
        expect(walks).toHaveBeenCalledTimes(2);
      } finally {
        walks.mockRestore();
      }
    });

    it('accepts any one of the alternatives and keeps plans apart per caller', async () => {
      const q = '{ user(id: "u2") { email } }';
      for (let i = 0; i < 2; i++) {
        expect((await query(q, await identity.bearer('u2', ['users:email']))).body.data).toEqual({ user: { email: expect.any(String) } });
        expect((await query(q)).body.data).toEqual({ user: null });
      }
    });
  });

  // Throws when the histogram has no payments sample at all: a renamed metric must not read as "never asked".
  const paymentsFetches = () => metricSum(`${gateway.server.admin.url}/metrics`, 'trellis_subgraph_fetch_duration_seconds_count', { subgraph: 'payments' });
});

