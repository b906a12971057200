/**
 * Multipart HTTP subscriptions (`Accept: multipart/mixed;subscriptionSpec=1.0`, Apollo Client's
 * transport for subscriptions against Router) through a real gateway: every event as a part
 * `{payload}`, in order, read by Apollo Client 4 too; heartbeats; the upstream subscription closed
 * when the client leaves; transport-level errors at a fatal end (a token that expires, the subgraph
 * lost, the gateway stopping); and the same refusals as SSE, with the same codes and statuses.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { decodeJwt } from 'jose';
import type { Env } from '@trellis/kit/internal/config';
import type { Subgraph, SubgraphFactory } from '@trellis/kit';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import { startTestIdentity, type TestIdentity } from '../../support/identity';
import { eventually, postGraphQLSse } from '../../support/graphql';
import { allMultipartParts, isHeartbeat, multipartParts, postGraphQLMultipart } from '../../support/multipartParts';

const typeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query {
    whoami: String
  }
  type Node {
    n: Int!
    child: Node
  }
  type Subscription {
    "One event every everyMs, never ending by itself."
    ticks(everyMs: Int! = 50): Int!
    "from, from - 1, ..., 1, then complete."
    countdown(from: Int!): Int!
    "Never runs here: deep enough to be refused by MAX_QUERY_DEPTH."
    deep: Node!
  }
`;

/** The `ticks` subscriptions the subgraph is serving now (each ends in its generator's `finally`). */
let openTicks = 0;

const ticker: SubgraphFactory = () => ({
  name: 'ticker',
  typeDefs,
  resolvers: {
    Query: { whoami: (_: unknown, __: unknown, context: { user: { id: string } | null }) => context.user?.id ?? null },
    Subscription: {
      ticks: {
        // An iterator rather than a generator: a generator waiting in a timer would see its return() only
        // at its next event, and these wait up to minutes; this one ends (and counts) the moment it is told.
        subscribe: (_: unknown, { everyMs }: { everyMs: number }): AsyncIterableIterator<{ ticks: number }> => {
          openTicks += 1;
          let tick = 0;
          let timer: NodeJS.Timeout | undefined;
          let waiting: ((result: IteratorResult<{ ticks: number }>) => void) | undefined;
          let closed = false;
          const done = { done: true, value: undefined } as const;
          return {
            [Symbol.asyncIterator]() {
              return this;
            },
            next: () =>
              closed
                ? Promise.resolve(done)
                : new Promise((resolve) => {
                    waiting = resolve;
                    timer = setTimeout(() => resolve({ done: false, value: { ticks: tick++ } }), everyMs);
                  }),
            return: async () => {
              if (!closed) {
                closed = true;
                openTicks -= 1;
                clearTimeout(timer);
                waiting?.(done);
              }
              return done;
            },
          };
        },
      },
      countdown: {
        subscribe: async function* (_: unknown, { from }: { from: number }) {
          for (let left = from; left > 0; left--) yield { countdown: left };
        },
      },
      deep: { subscribe: async function* () {} },
    },
  },
});

/** The parts that are not heartbeats. */
const withoutHeartbeats = (parts: unknown[]) => parts.filter((part) => !isHeartbeat(part));

/** The next part that is not a heartbeat. */
async function nextEvent(parts: AsyncGenerator<unknown>): Promise<unknown> {
  for (;;) {
    const { value, done } = await parts.next();
    if (done) throw new Error('the stream ended');
    if (!isHeartbeat(value)) return value;
  }
}

/** Every part to the end, heartbeats left out. */
async function restOf(parts: AsyncGenerator<unknown>): Promise<unknown[]> {
  const rest: unknown[] = [];
  for await (const part of parts) rest.push(part);
  return withoutHeartbeats(rest);
}

describe('multipart HTTP subscriptions', () => {
  let identity: TestIdentity;
  let subgraph: Subgraph;
  const gateways: InProcessGateway[] = [];

  /** A gateway over `over` (its URL) with `env`. */
  const gateway = async (env: Env, over: Subgraph = subgraph) => {
    const composed = composeSupergraph([{ name: 'ticker', sdl: typeDefs, url: over.url }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    const supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-multipart-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
    const started = await startGateway({ SUPERGRAPH_PATH: supergraphPath, ...identity.env, ...env });
    gateways.push(started);
    return started;
  };

  let url: string;
  beforeAll(async () => {
    identity = await startTestIdentity();
    subgraph = await startSubgraph(ticker, identity.env);
    url = (
      await gateway({
        MULTIPART_HEARTBEAT_MS: '100',
        MAX_SUBSCRIPTIONS_PER_USER: '2',
        MAX_QUERY_DEPTH: '2',
        AUTH_CLOCK_TOLERANCE_S: '0',
      })
    ).url;
  });
  afterAll(async () => {
    for (const started of gateways.reverse()) await started.stop().catch(() => undefined);
    await subgraph?.stop();
    await identity?.stop();
  });

  it('streams each event as {payload: result}, in order, and closes when the subscription completes', async () => {
    const response = await postGraphQLMultipart(url, 'subscription($from: Int!) { countdown(from: $from) }', {
      variables: { from: 3 },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";subscriptionSpec=1.0');
    expect(withoutHeartbeats(await allMultipartParts(response))).toEqual(
      [3, 2, 1].map((left) => ({ payload: { data: { countdown: left } } })),
    );
  });

  it('is read by Apollo Client 4 with its defaults: every event, in order, then complete', async () => {
    const client = new ApolloClient({ link: new HttpLink({ uri: url }), cache: new InMemoryCache() });
    try {
      const events = await new Promise<unknown[]>((resolve, reject) => {
        const seen: unknown[] = [];
        client
          .subscribe({ query: gql('subscription { countdown(from: 4) }') })
          .subscribe({ next: (result) => seen.push(result.data), error: reject, complete: () => resolve(seen) });
      });
      expect(events).toEqual([4, 3, 2, 1].map((left) => ({ countdown: left })));
    } finally {
      client.stop();
    }
  });

  it('answers a query sent with the same Accept as JSON, and one whose Accept admits only multipart subscriptions with 406', async () => {
    const asJson = await postGraphQLMultipart(url, '{ whoami }', { headers: await identity.bearer('multipart-query') });
    expect(asJson.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect(await asJson.json()).toEqual({ data: { whoami: 'multipart-query' } });
    const refused = await postGraphQLMultipart(url, '{ whoami }', { accept: 'multipart/mixed;subscriptionSpec="1.0"' });
    expect(refused.status).toBe(406);
    expect(
      ((await refused.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code,
    ).toBe('NOT_ACCEPTABLE');
  });

  it('sends a heartbeat {} while no event comes, and closes the upstream subscription when the client leaves', async () => {
    const leave = new AbortController();
    const response = await postGraphQLMultipart(url, 'subscription { ticks(everyMs: 600000) }', {
      signal: leave.signal,
    });
    const parts = multipartParts(response);
    // The first event is ten minutes away: whatever comes first is a heartbeat.
    expect((await parts.next()).value).toEqual({});
    expect((await parts.next()).value).toEqual({});
    expect(openTicks).toBe(1);
    leave.abort();
    await eventually(async () => expect(openTicks).toBe(0));
  });

  it('frees the caller’s slot when its stream closes, and refuses one over the cap as SSE does', async () => {
    const caller = await identity.bearer('multipart-slots');
    const held = [new AbortController(), new AbortController()];
    for (const leave of held) {
      const parts = multipartParts(
        await postGraphQLMultipart(url, 'subscription { ticks }', { headers: caller, signal: leave.signal }),
      );
      expect(await nextEvent(parts)).toEqual({ payload: { data: { ticks: 0 } } });
    }
    const refusal = {
      errors: [
        {
          message: 'this client already has 2 open subscriptions, the most allowed; end one first',
          extensions: { code: 'TOO_MANY_SUBSCRIPTIONS_PER_USER', limit: 2 },
        },
      ],
    };
    const overCap = await postGraphQLMultipart(url, 'subscription { countdown(from: 1) }', { headers: caller });
    expect(overCap.status).toBe(200);
    expect(await allMultipartParts(overCap)).toEqual([{ payload: refusal }]);
    const overSse = await postGraphQLSse(url, 'subscription { countdown(from: 1) }', { headers: caller });
    expect(overSse.status).toBe(200);
    expect(overSse.events).toEqual([
      { event: 'next', data: refusal },
      { event: 'complete', data: undefined },
    ]);
    held[0]!.abort();
    await eventually(async () =>
      expect(
        withoutHeartbeats(
          await allMultipartParts(
            await postGraphQLMultipart(url, 'subscription { countdown(from: 1) }', { headers: caller }),
          ),
        ),
      ).toEqual([{ payload: { data: { countdown: 1 } } }]),
    );
    held[1]!.abort();
    await eventually(async () => expect(openTicks).toBe(0));
  });

  it('refuses a bad token before any stream opens (401) and a subscription over a limit inside it, with the codes and statuses of SSE', async () => {
    const badToken = { authorization: 'Bearer not-a-token' };
    const overMultipart = await postGraphQLMultipart(url, 'subscription { countdown(from: 1) }', { headers: badToken });
    const overSse = await postGraphQLSse(url, 'subscription { countdown(from: 1) }', { headers: badToken });
    expect(overMultipart.status).toBe(401);
    expect(overSse.status).toBe(401);
    const refused = (await overMultipart.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(refused.errors.map((error) => error.extensions.code)).toEqual(['UNAUTHENTICATED']);

    // A document that does not validate is answered as any request on /graphql: JSON, 400 under application/graphql-response+json.
    const invalid = await postGraphQLMultipart(url, 'subscription { nope }');
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect(
      ((await invalid.json()) as { errors: Array<{ extensions: { code: string } }> }).errors.map(
        (error) => error.extensions.code,
      ),
    ).toEqual(['GRAPHQL_VALIDATION_FAILED']);

    // MAX_TOKENS (2000 by default) stops the parser, as on every transport.
    const tooLong = await postGraphQLMultipart(url, `subscription { countdown(from: 1) ${'__typename '.repeat(2100)}}`);
    expect(tooLong.status).toBe(400);
    expect(
      ((await tooLong.json()) as { errors: Array<{ extensions: { code: string } }> }).errors.map(
        (error) => error.extensions.code,
      ),
    ).toEqual(['TOO_MANY_TOKENS']);

    const tooDeep = 'subscription { deep { child { child { n } } } }';
    const deepMultipart = await postGraphQLMultipart(url, tooDeep);
    const deepSse = await postGraphQLSse(url, tooDeep);
    expect([deepMultipart.status, deepSse.status]).toEqual([200, 200]);
    const parts = await allMultipartParts(deepMultipart);
    expect(parts).toEqual([{ payload: deepSse.events[0]!.data }]);
    expect(parts).toEqual([
      {
        payload: {
          errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_DEEP' }) })],
        },
      },
    ]);
  });

  it('refuses a caller over the rate limit before any stream opens, with 429 and its headers as SSE', async () => {
    const { url: limited } = await gateway({ GATEWAY_RATE_LIMIT: '1' });
    const caller = await identity.bearer('multipart-rate');
    expect(
      withoutHeartbeats(
        await allMultipartParts(
          await postGraphQLMultipart(limited, 'subscription { countdown(from: 1) }', { headers: caller }),
        ),
      ),
    ).toEqual([{ payload: { data: { countdown: 1 } } }]);
    const overMultipart = await postGraphQLMultipart(limited, 'subscription { countdown(from: 1) }', {
      headers: caller,
    });
    const overSse = await postGraphQLSse(limited, 'subscription { countdown(from: 1) }', { headers: caller });
    expect([overMultipart.status, overSse.status]).toEqual([429, 429]);
    expect(overMultipart.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(
      ((await overMultipart.json()) as { errors: Array<{ extensions: { code: string } }> }).errors.map(
        (error) => error.extensions.code,
      ),
    ).toEqual(['RATE_LIMITED']);
  });

  it('runs a persisted query by its hash once it was sent with it, as on HTTP', async () => {
    const query = 'subscription { countdown(from: 2) }';
    const persistedQuery = { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') };
    const unknown = await postGraphQLMultipart(url, undefined, { extensions: { persistedQuery } });
    expect(
      ((await unknown.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code,
    ).toBe('PERSISTED_QUERY_NOT_FOUND');
    const events = [2, 1].map((left) => ({ payload: { data: { countdown: left } } }));
    expect(
      withoutHeartbeats(
        await allMultipartParts(await postGraphQLMultipart(url, query, { extensions: { persistedQuery } })),
      ),
    ).toEqual(events);
    expect(
      withoutHeartbeats(
        await allMultipartParts(await postGraphQLMultipart(url, undefined, { extensions: { persistedQuery } })),
      ),
    ).toEqual(events);
  });

  it('ends a stream at its token’s expiry with a transport-level UNAUTHENTICATED, not before', async () => {
    const token = await identity.token('multipart-expiring', [], 2);
    const expiresAt = (decodeJwt(token).exp as number) * 1000;
    const parts = await allMultipartParts(
      await postGraphQLMultipart(url, 'subscription { ticks(everyMs: 100) }', {
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    const events = withoutHeartbeats(parts);
    expect(events.length).toBeGreaterThan(1);
    expect(events.slice(0, -1)).toEqual(events.slice(0, -1).map((_, tick) => ({ payload: { data: { ticks: tick } } })));
    expect(events.at(-1)).toEqual({
      payload: null,
      errors: [{ message: 'token expired (exp is in the past)', extensions: { code: 'UNAUTHENTICATED' } }],
    });
    await eventually(async () => expect(openTicks).toBe(0));
  });

  it('ends with a transport-level SUBGRAPH_UNAVAILABLE when the subgraph serving it stops', async () => {
    const doomed = await startSubgraph(ticker, identity.env);
    const { url: over } = await gateway({}, doomed);
    const parts = multipartParts(await postGraphQLMultipart(over, 'subscription { ticks }'));
    expect(await nextEvent(parts)).toEqual({ payload: { data: { ticks: 0 } } });
    await doomed.stop();
    const rest = await restOf(parts);
    expect(rest.at(-1)).toEqual({
      payload: null,
      errors: [
        expect.objectContaining({
          extensions: expect.objectContaining({ code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'ticker' }),
        }),
      ],
    });
    // Every part before the end is an event, in order.
    expect(rest.slice(0, -1)).toEqual(
      rest.slice(0, -1).map((_, index) => ({ payload: { data: { ticks: index + 1 } } })),
    );
  });

  it('ends its streams with a transport-level SHUTTING_DOWN and the closing delimiter when the gateway stops, in well under the grace', async () => {
    const stopping = await gateway({ SHUTDOWN_GRACE_MS: '5000' });
    const parts = multipartParts(await postGraphQLMultipart(stopping.url, 'subscription { ticks }'));
    expect(await nextEvent(parts)).toEqual({ payload: { data: { ticks: 0 } } });
    const started = performance.now();
    await stopping.server.stop();
    expect(performance.now() - started).toBeLessThan(1000);
    gateways.splice(gateways.indexOf(stopping), 1);
    await stopping.backends.close();
    const rest = await restOf(parts);
    expect(rest.at(-1)).toEqual({
      payload: null,
      errors: [{ message: 'the gateway is stopping: subscribe again', extensions: { code: 'SHUTTING_DOWN' } }],
    });
    expect(rest.slice(0, -1)).toEqual(
      rest.slice(0, -1).map((_, index) => ({ payload: { data: { ticks: index + 1 } } })),
    );
    await eventually(async () => expect(openTicks).toBe(0));
  });
});
