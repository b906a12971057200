/**
 * Long-lived sessions at the gateway, as a client or an attacker meets them on a running gateway:
 * caps on open subscriptions per graphql-ws connection and per caller (graphql-ws and SSE
 * together), slots freed when a subscription ends; a connection or stream closed at its token's
 * expiry; the token read wherever clients put it in `connectionParams`.
 */
import { EventEmitter, on } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { decodeJwt } from 'jose';
import type { Env } from '@trellis/kit/internal/config';
import type { Subgraph, SubgraphFactory } from '@trellis/kit';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import type { AssembledGateway } from '../../../gateway/assemble';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import { startTestIdentity, type TestIdentity } from '../../support/identity';
import { eventually, parseSseEvents, postGraphQLSse } from '../../support/graphql';

const typeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { whoami: String }
  type Subscription {
    "One event every 50 ms, never ending by itself."
    ticks: Int!
    "from, from - 1, ..., 1, then complete."
    countdown(from: Int!): Int!
  }
`;

const ticker: SubgraphFactory = () => ({
  name: 'ticker',
  typeDefs,
  resolvers: {
    Query: { whoami: (_: unknown, __: unknown, context: { user: { id: string } | null }) => context.user?.id ?? null },
    Subscription: {
      ticks: {
        subscribe: async function* () {
          const emitter = new EventEmitter();
          let count = 0;
          const timer = setInterval(() => emitter.emit('tick', count++), 50);
          try {
            for await (const [tick] of on(emitter, 'tick')) yield { ticks: tick as number };
          } finally {
            clearInterval(timer);
          }
        },
      },
      countdown: {
        subscribe: async function* (_: unknown, { from }: { from: number }) {
          for (let left = from; left > 0; left--) yield { countdown: left };
        },
      },
    },
  },
});

type Outcome = { next: unknown } | { error: unknown } | 'complete';

/** One subscription on a graphql-ws client: its first result or its end, whichever comes first (`settled`). */
function open(client: Client, query: string) {
  let first!: (value: unknown) => void;
  const firstResult = new Promise<unknown>((resolve) => (first = resolve));
  let unsubscribe!: () => void;
  const ended = new Promise<Outcome>((resolve) => {
    unsubscribe = client.subscribe({ query }, { next: (value) => first(value), error: (error) => resolve({ error }), complete: () => resolve('complete') });
  });
  const settled: Promise<Outcome> = Promise.race([firstResult.then((next) => ({ next })), ended]);
  return { settled, ended, unsubscribe };
}

interface Closed {
  code: number;
  reason: string;
  at: number;
}

/** A graphql-ws connection that opens at once and stays open between operations; `closed` resolves with its close frame. */
function connect(url: string, connectionParams?: Record<string, unknown>) {
  let onClosed!: (closed: Closed) => void;
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
    connectionParams,
    on: { closed: (event) => onClosed({ code: (event as CloseEvent).code, reason: (event as CloseEvent).reason, at: Date.now() }) },
  });
  return { client, closed };
}

const refusedWith = (code: string) => ({ error: [expect.objectContaining({ extensions: expect.objectContaining({ code }) })] });

describe('graphql-ws and SSE sessions', () => {
  let identity: TestIdentity;
  let subgraph: Subgraph;
  let supergraphPath: string;
  const gateways: InProcessGateway[] = [];
  const clients: Client[] = [];
  const gateway = async (env: Env) => {
    const started = await startGateway({ SUPERGRAPH_PATH: supergraphPath, ...identity.env, ...env });
    gateways.push(started);
    return started.url;
  };
  const client = (url: string, connectionParams?: Record<string, unknown>) => {
    const connected = connect(url, connectionParams);
    clients.push(connected.client);
    return connected;
  };

  beforeAll(async () => {
    identity = await startTestIdentity();
    subgraph = await startSubgraph(ticker, identity.env);
    const composed = composeSupergraph([{ name: 'ticker', sdl: typeDefs, url: subgraph.url }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-sessions-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
  });

  afterEach(async () => {
    for (const started of clients.splice(0)) await started.dispose();
  });

  afterAll(async () => {
    for (const started of gateways.reverse()) await started.stop();
    await subgraph?.stop();
    await identity?.stop();
  });

  describe('caps on open subscriptions', () => {
    let url: string;
    beforeAll(async () => {
      url = await gateway({ MAX_SUBSCRIPTIONS_PER_CONNECTION: '2', MAX_SUBSCRIPTIONS_PER_USER: '3' });
    });
    /** A metric of this gateway, by its labels; a series that is not there fails rather than reading 0. */
    const metric = async (name: string, labels: Record<string, string> = {}) => {
      const registry = (gateways.at(-1)!.server as AssembledGateway).metrics.registry;
      const found = (await registry.getSingleMetric(name)?.get())?.values.find((value) => Object.entries(labels).every(([key, label]) => value.labels[key] === label));
      if (!found) throw new Error(`no ${name} ${JSON.stringify(labels)}`);
      return found.value;
    };

    it('refuses a subscription over the per-connection cap with TOO_MANY_SUBSCRIPTIONS_PER_CONNECTION, for that operation alone', async () => {
      const { client: ws, closed } = client(url, { headers: await identity.bearer('cap-connection') });
      const held = [open(ws, 'subscription { ticks }'), open(ws, 'subscription { ticks }')];
      for (const subscription of held) expect(await subscription.settled).toEqual({ next: { data: { ticks: expect.any(Number) } } });
      const third = open(ws, 'subscription { ticks }');
      expect(await third.settled).toEqual({
        error: [{ message: 'this connection already has 2 open subscriptions, the most allowed; end one first', extensions: { code: 'TOO_MANY_SUBSCRIPTIONS_PER_CONNECTION', limit: 2 } }],
      });
      // The connection stays open, a query takes no slot, and the subscriptions it holds keep running.
      expect(await open(ws, '{ whoami }').ended).toBe('complete');
      expect(await open(ws, '{ whoami }').settled).toEqual({ next: { data: { whoami: 'cap-connection' } } });
      const more = open(ws, 'subscription { countdown(from: 1) }');
      expect(await more.settled).toEqual(refusedWith('TOO_MANY_SUBSCRIPTIONS_PER_CONNECTION'));
      expect(await Promise.race([closed.then(() => 'closed'), Promise.resolve('open')])).toBe('open');
      // Counted as Apollo Router counts them: what is open, and each refusal by its cap.
      expect(await metric('trellis_gateway_open_subscriptions')).toBe(2);
      expect(await metric('trellis_gateway_subscriptions_refused_total', { reason: 'per_connection' })).toBe(2);
      expect(await metric('trellis_gateway_subscriptions_refused_total', { reason: 'per_user' })).toBe(0);
    });

    it('caps a caller across connections and SSE with TOO_MANY_SUBSCRIPTIONS_PER_USER; another caller is not held back; a closed connection frees its slots', async () => {
      const asUser = { headers: await identity.bearer('cap-user') };
      const first = client(url, asUser).client;
      const second = client(url, asUser).client;
      const held = [open(first, 'subscription { ticks }'), open(first, 'subscription { ticks }'), open(second, 'subscription { ticks }')];
      for (const subscription of held) expect(await subscription.settled).toEqual({ next: { data: { ticks: expect.any(Number) } } });
      expect(await open(second, 'subscription { ticks }').settled).toEqual({
        error: [{ message: 'this client already has 3 open subscriptions, the most allowed; end one first', extensions: { code: 'TOO_MANY_SUBSCRIPTIONS_PER_USER', limit: 3 } }],
      });
      const sse = await postGraphQLSse(url, 'subscription { ticks }', { headers: asUser.headers });
      expect(sse.status).toBe(200);
      expect(sse.events).toEqual([
        { event: 'next', data: { errors: [{ message: 'this client already has 3 open subscriptions, the most allowed; end one first', extensions: { code: 'TOO_MANY_SUBSCRIPTIONS_PER_USER', limit: 3 } }] } },
        { event: 'complete', data: undefined },
      ]);
      // Another caller on the same address has its own count.
      const other = await postGraphQLSse(url, 'subscription { countdown(from: 2) }', { headers: await identity.bearer('cap-other') });
      expect(other.events).toEqual([
        { event: 'next', data: { data: { countdown: 2 } } },
        { event: 'next', data: { data: { countdown: 1 } } },
        { event: 'complete', data: undefined },
      ]);
      // A connection that closes frees both slots it held: the caller may open two more, and no third.
      await first.dispose();
      await eventually(async () => expect((await open(second, 'subscription { ticks }').settled) as object).toHaveProperty('next'));
      const third = client(url, asUser).client;
      expect((await open(third, 'subscription { ticks }').settled) as object).toHaveProperty('next');
      expect(await open(third, 'subscription { ticks }').settled).toEqual(refusedWith('TOO_MANY_SUBSCRIPTIONS_PER_USER'));
    });

    it('frees the slot of a subscription that ends: unsubscribed by the client, completed by the subgraph, or an SSE stream closed', async () => {
      const asUser = { headers: await identity.bearer('cap-free') };
      const ws = client(url, asUser).client;
      const kept = open(ws, 'subscription { ticks }');
      const dropped = open(ws, 'subscription { ticks }');
      for (const subscription of [kept, dropped]) expect((await subscription.settled) as object).toHaveProperty('next');
      expect(await open(ws, 'subscription { ticks }').settled).toEqual(refusedWith('TOO_MANY_SUBSCRIPTIONS_PER_CONNECTION'));

      // The client ends one: the next subscription on the connection is accepted (once the server has seen the `complete`).
      dropped.unsubscribe();
      const replacement = await eventually(async () => {
        const attempt = open(ws, 'subscription { countdown(from: 1) }');
        expect(await attempt.settled).toEqual({ next: { data: { countdown: 1 } } });
        return attempt;
      });
      // That one completes by itself, freeing its slot again.
      expect(await replacement.ended).toBe('complete');
      const afterCompletion = await eventually(async () => {
        const attempt = open(ws, 'subscription { ticks }');
        expect((await attempt.settled) as object).toHaveProperty('next');
        return attempt;
      });

      // The caller holds 2 of 3: one SSE stream fits, and once it is closed by the client another does.
      const sse = async () => {
        const abort = new AbortController();
        const response = await fetch(url, {
          method: 'POST',
          headers: { ...asUser.headers, 'content-type': 'application/json', accept: 'text/event-stream' },
          body: JSON.stringify({ query: 'subscription { ticks }' }),
          signal: abort.signal,
        });
        const reader = response.body!.getReader();
        let text = '';
        // Up to the first whole event (graphql-sse may send a `:` keep-alive comment first).
        while (!/event: .*\ndata: .*\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
        return { events: parseSseEvents(text), abort };
      };
      const stream = await sse();
      expect(stream.events[0]).toEqual({ event: 'next', data: { data: { ticks: expect.any(Number) } } });
      const refused = await sse();
      expect(refused.events[0].data.errors[0].extensions.code).toBe('TOO_MANY_SUBSCRIPTIONS_PER_USER');
      refused.abort.abort();
      stream.abort.abort();
      await eventually(async () => {
        const again = await sse();
        again.abort.abort();
        expect(again.events[0]).toEqual({ event: 'next', data: { data: { ticks: expect.any(Number) } } });
      });
      afterCompletion.unsubscribe();
      kept.unsubscribe();
    });
  });

  it('counts anonymous callers by client address for the per-caller cap, across graphql-ws and SSE', async () => {
    const url = await gateway({ MAX_SUBSCRIPTIONS_PER_USER: '1' });
    const anonymous = client(url).client;
    const held = open(anonymous, 'subscription { ticks }');
    expect((await held.settled) as object).toHaveProperty('next');
    expect(await open(client(url).client, 'subscription { ticks }').settled).toEqual(refusedWith('TOO_MANY_SUBSCRIPTIONS_PER_USER'));
    const sse = await postGraphQLSse(url, 'subscription { countdown(from: 1) }');
    expect(sse.events[0].data.errors[0].extensions).toEqual({ code: 'TOO_MANY_SUBSCRIPTIONS_PER_USER', limit: 1 });
    // A verified caller from the same address is someone else.
    const signedIn = await postGraphQLSse(url, 'subscription { countdown(from: 1) }', { headers: await identity.bearer('cap-address') });
    expect(signedIn.events[0]).toEqual({ event: 'next', data: { data: { countdown: 1 } } });
    held.unsubscribe();
  });

  describe('a token that expires', () => {
    let url: string;
    beforeAll(async () => {
      // No clock tolerance: the session ends at `exp` itself.
      url = await gateway({ AUTH_CLOCK_TOLERANCE_S: '0' });
    });

    it('closes the graphql-ws connection with 4403 at exp, not before', async () => {
      const token = await identity.token('expiring-ws', [], 3);
      const expiresAt = (decodeJwt(token).exp as number) * 1000;
      const { client: ws, closed } = client(url, { authorization: `Bearer ${token}` });
      const ticks = open(ws, 'subscription { ticks }');
      expect((await ticks.settled) as object).toHaveProperty('next');
      const close = await closed;
      expect(close).toEqual({ code: 4403, reason: 'UNAUTHENTICATED: token expired (exp is in the past)', at: expect.any(Number) });
      expect(close.at).toBeGreaterThanOrEqual(expiresAt);
      // The subscription ended with the connection.
      expect(await ticks.ended).toEqual({ error: expect.objectContaining({ code: 4403 }) });
    });

    it('ends an SSE stream at exp with UNAUTHENTICATED, then complete', async () => {
      const token = await identity.token('expiring-sse', [], 3);
      const expiresAt = (decodeJwt(token).exp as number) * 1000;
      const stream = await postGraphQLSse(url, 'subscription { ticks }', { headers: { authorization: `Bearer ${token}` } });
      const endedAt = Date.now();
      expect(endedAt).toBeGreaterThanOrEqual(expiresAt);
      const ticks = stream.events.slice(0, -2);
      expect(ticks.length).toBeGreaterThan(0);
      for (const tick of ticks) expect(tick).toEqual({ event: 'next', data: { data: { ticks: expect.any(Number) } } });
      expect(stream.events.slice(-2)).toEqual([
        { event: 'next', data: { errors: [{ message: 'token expired (exp is in the past)', extensions: { code: 'UNAUTHENTICATED' } }] } },
        { event: 'complete', data: undefined },
      ]);
    });
  });

  describe('the token in connectionParams', () => {
    let url: string;
    beforeAll(async () => {
      url = await gateway({});
    });

    it.each([
      ['{ headers: { authorization } }', (value: string) => ({ headers: { authorization: value } })],
      ['{ authorization } (Apollo Router)', (value: string) => ({ authorization: value })],
      ['{ Authorization } (Apollo Router)', (value: string) => ({ Authorization: value })],
    ])('reads it from %s, and refuses a bad one there with 4403', async (_form, params) => {
      const token = await identity.token('params-user');
      const ws = client(url, params(`Bearer ${token}`)).client;
      expect(await open(ws, '{ whoami }').settled).toEqual({ next: { data: { whoami: 'params-user' } } });
      const forged = client(url, params(`Bearer ${token.slice(0, -4)}AAAA`));
      const close = await forged.closed;
      expect(close.code).toBe(4403);
      expect(close.reason).toBe('UNAUTHENTICATED: token signature verification failed');
    });

    it('cuts a long refusal to what a close frame carries (123 bytes), on a character boundary', async () => {
      // The algorithm is the sender's to choose, and the refusal names it: here 150 two-byte characters.
      const header = Buffer.from(JSON.stringify({ alg: 'é'.repeat(150) })).toString('base64url');
      const { closed } = client(url, { authorization: `Bearer ${header}.e30.c2ln` });
      const close = await closed;
      expect(close.code).toBe(4403);
      expect(close.reason.startsWith('UNAUTHENTICATED: token algorithm "ééé')).toBe(true);
      expect(Buffer.byteLength(close.reason)).toBeLessThanOrEqual(123);
      expect(Buffer.byteLength(close.reason)).toBeGreaterThanOrEqual(122);
      expect(close.reason).not.toContain('\uFFFD');
    });

    it.each([
      ['{ authorization }', (value: string) => ({ authorization: value })],
      ['{ Authorization }', (value: string) => ({ Authorization: value })],
    ])('is read from %s by a subgraph reached directly too (the kit reads the same forms)', async (_form, params) => {
      const ws = client(subgraph.url, params(`Bearer ${await identity.token('direct-user')}`)).client;
      expect(await open(ws, '{ whoami }').settled).toEqual({ next: { data: { whoami: 'direct-user' } } });
    });
  });
});
