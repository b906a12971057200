/**
 * Multipart HTTP subscriptions on loopback, as the gateway mounts them on `/graphql` (after the
 * kit's negotiation and the JSON body parser, before Apollo Server, which answers 299 here), over
 * the real FederatedExecutor and a subgraph the test feeds: the wire format Apollo Router writes and
 * Apollo Client reads (`{"payload": ...}` parts, heartbeats `{}`, a transport-level error
 * `{"payload": null, "errors": [...]}` before the closing delimiter), the upstream subscription
 * ended when the client leaves, refusals before the stream as one JSON answer, and everything else
 * passed on untouched.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ExecutionResult } from 'graphql';
import { GraphQLError } from 'graphql';
import { MultipartSpec, negotiateGraphQLAnswer } from '@trellis/kit/internal';
import type { Logger } from '@trellis/kit';
import { multipartSubscriptions, type MultipartParts } from '../../../../gateway/subscriptions/multipart';
import { HttpStreams } from '../../../../gateway/subscriptions/httpStreams';
import { SubscriptionSlots } from '../../../../gateway/subscriptions/slots';
import { TOKEN_EXPIRED_MESSAGE } from '../../../../gateway/subscriptions/expiry';
import type { FederatedExecutor } from '../../../../gateway/subscriptions/federatedExecutor';
import { sha256 } from '../../../../gateway/persisted/manifest';
import { eventually } from '../../../support/graphql';
import {
  allMultipartParts,
  isHeartbeat,
  MULTIPART_SUBSCRIPTION_ACCEPT,
  multipartParts,
  postGraphQLMultipart,
} from '../../../support/multipartParts';
import { streamsGateway, type StreamsGateway } from './streamsGateway';

const ticks = (channel: string) => `subscription { ticks(channel: "${channel}") { n channel } }`;
const payload = (channel: string, n: number) => ({ payload: { data: { ticks: { n, channel } } } });
const PART = '\r\ncontent-type: application/json; charset=utf-8\r\n\r\n';

describe('multipartSubscriptions', () => {
  let fixture: StreamsGateway;
  const servers: Server[] = [];
  const logged: string[] = [];
  const logger = { error: (_: unknown, message: string) => logged.push(message) } as unknown as Logger;
  /** What the middleware serves with: the fixture's, or one with a scripted executor a test puts in. */
  let parts: MultipartParts | undefined;
  let url: string;
  let heartbeatUrl: string;
  let unmountedUrl: string;

  const listen = async (mounted: () => MultipartParts | undefined, heartbeatMs: number) => {
    const app = express();
    app.use('/graphql', negotiateGraphQLAnswer({ multipart: [MultipartSpec.SUBSCRIPTION] }), express.json());
    // As the gateway's correlation middleware records it.
    app.use((req: Request, res: Response, next: NextFunction) => {
      res.locals.correlationId = req.header('x-correlation-id');
      next();
    });
    app.use('/graphql', multipartSubscriptions(mounted, { heartbeatMs, logger }));
    app.use('/graphql', (_req: Request, res: Response) => void res.status(299).json({ passedOn: true }));
    app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => void res.status(500).json({ failed: error.message }));
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((resolve) => server.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  };
  const mount = (executor: FederatedExecutor, maxPerUser = 1): MultipartParts => ({
    host: fixture.host,
    executor,
    streams: new HttpStreams(fixture.host, executor, { slots: new SubscriptionSlots({ maxPerConnection: 0, maxPerUser }) }),
  });
  /** The fixture's executor with `execute` replaced: results a subgraph could send, scripted. */
  const scripted = (execute: FederatedExecutor['execute']): FederatedExecutor =>
    Object.assign(Object.create(fixture.executor) as FederatedExecutor, { execute });

  beforeAll(async () => {
    fixture = await streamsGateway();
    // No heartbeat in a minute: the exact-wire tests see only what the subscription sends.
    url = await listen(() => parts, 60_000);
    heartbeatUrl = await listen(() => parts, 40);
    unmountedUrl = await listen(() => undefined, 60_000);
  }, 60_000);

  beforeEach(() => {
    parts = mount(fixture.executor);
    logged.length = 0;
  });

  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await fixture?.stop();
  });

  const subscribe = (channel: string, token: string, options: Parameters<typeof postGraphQLMultipart>[2] = {}) =>
    postGraphQLMultipart(url, ticks(channel), { ...options, headers: { authorization: `Bearer ${token}`, ...options.headers } });
  const listening = (channel: string, count = 1) =>
    eventually(async () => expect(fixture.listening(channel)).toBe(count), 15_000);

  it("writes each event as a {payload} part framed as Apollo Router frames it, and the closing delimiter when the subscription ends", async () => {
    fixture.contexts.length = 0;
    const response = await subscribe('wire', 'u-wire', { headers: { 'x-correlation-id': 'corr-wire' } });
    await listening('wire');
    fixture.tick('wire', 1);
    fixture.tick('wire', 2);
    fixture.end('wire');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";subscriptionSpec=1.0');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    // The context's own answer headers (RateLimit) go out with the stream's head.
    expect(response.headers.get('ratelimit')).toBe('limit=10, remaining=9');
    expect(await response.text()).toBe(
      `\r\n--graphql${PART}${JSON.stringify(payload('wire', 1))}` +
        `\r\n--graphql${PART}${JSON.stringify(payload('wire', 2))}` +
        '\r\n--graphql--\r\n',
    );
    expect(logged).toStrictEqual([]);
    // The context is the request's: its token, correlation id and address.
    expect(fixture.contexts).toStrictEqual([
      expect.objectContaining({ correlationId: 'corr-wire', clientAddress: '127.0.0.1', user: expect.objectContaining({ id: 'u-wire' }) }),
    ]);
  });

  it('sends a heartbeat {} while no event goes out, and closes cleanly at the end', async () => {
    const response = await postGraphQLMultipart(heartbeatUrl, ticks('idle'), { headers: { authorization: 'Bearer u-idle' } });
    await listening('idle');
    const seen: unknown[] = [];
    const reader = multipartParts(response);
    // Two heartbeats in a row: nothing else was sent in between.
    for (let heartbeats = 0; heartbeats < 2; ) {
      const { value } = await reader.next();
      seen.push(value);
      if (isHeartbeat(value)) heartbeats += 1;
    }
    expect(seen.every(isHeartbeat)).toBe(true);
    fixture.tick('idle', 7);
    fixture.end('idle');
    const rest: unknown[] = [];
    for await (const part of reader) rest.push(part);
    // The reader fails on a body cut before `--graphql--`: the stream ended cleanly.
    expect(rest.filter((part) => !isHeartbeat(part))).toStrictEqual([payload('idle', 7)]);
  });

  it('ends the upstream subscription and frees the caller\'s slot when the client leaves', async () => {
    const leave = new AbortController();
    const response = await subscribe('gone', 'u-gone', { signal: leave.signal });
    await listening('gone');
    fixture.tick('gone', 1);
    const reader = multipartParts(response);
    expect((await reader.next()).value).toStrictEqual(payload('gone', 1));
    leave.abort();
    // Waiting for the next event, the stream sees the client leave: the subgraph is unsubscribed now.
    await eventually(async () => expect(fixture.ended).toContain('gone'), 15_000);
    expect(fixture.listening('gone')).toBe(0);
    // The caller's one slot (MAX_SUBSCRIPTIONS_PER_USER 1 here) is free again.
    const again = await subscribe('gone', 'u-gone');
    await listening('gone');
    fixture.end('gone');
    expect(await allMultipartParts(again)).toStrictEqual([]);
  });

  it('a subscription over the caller\'s cap is refused inside the stream: the error as the one part', async () => {
    const first = await subscribe('capped', 'u-cap');
    await listening('capped');
    const refused = await subscribe('capped', 'u-cap');
    expect(refused.status).toBe(200);
    expect(await allMultipartParts(refused)).toStrictEqual([
      {
        payload: {
          errors: [
            {
              message: 'this client already has 1 open subscriptions, the most allowed; end one first',
              extensions: { code: 'TOO_MANY_SUBSCRIPTIONS_PER_USER', limit: 1, formattedBy: 'host' },
            },
          ],
        },
      },
    ]);
    fixture.end('capped');
    expect(await allMultipartParts(first)).toStrictEqual([]);
  });

  it('refused before the stream opens: one JSON answer with the status and headers of the refusal', async () => {
    const limited = await subscribe('never', 'slow-down');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect(await limited.json()).toEqual({
      errors: [{ message: 'too many requests', extensions: { code: 'RATE_LIMITED', formattedBy: 'host' } }],
    });
    const bad = await subscribe('never', 'nope');
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({
      errors: [{ message: 'bad token', extensions: { code: 'UNAUTHENTICATED', formattedBy: 'host' } }],
    });
    expect(fixture.listening('never')).toBe(0);
  });

  it('answers 406 to another operation from a client that admits only multipart subscriptions', async () => {
    const response = await postGraphQLMultipart(url, '{ tick(n: 1) { n } }', { accept: 'multipart/mixed;subscriptionSpec="1.0"' });
    expect(response.status).toBe(406);
    expect(await response.json()).toEqual({
      errors: [
        {
          message:
            'a query is not answered as a multipart subscription: Accept application/json or application/graphql-response+json too',
          extensions: { code: 'NOT_ACCEPTABLE' },
        },
      ],
    });
  });

  it('passes on to Apollo Server what is not a multipart subscription it can run', async () => {
    const hash = 'f'.repeat(64);
    const post = (body: unknown, accept = MULTIPART_SUBSCRIPTION_ACCEPT) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    const passes = [
      fetch(`${url}?query=${encodeURIComponent(ticks('x'))}`, { headers: { accept: MULTIPART_SUBSCRIPTION_ACCEPT } }),
      post({ query: ticks('x') }, 'application/json'),
      post({ query: ticks('x') }, 'multipart/mixed;deferSpec=20220824, application/json'),
      fetch(url, { method: 'POST', headers: { accept: MULTIPART_SUBSCRIPTION_ACCEPT }, signal: AbortSignal.timeout(15_000) }),
      post([{ query: ticks('x') }]),
      post({ query: '{ tick(n: 1) { n } }' }),
      post({ query: 'mutation { reset }' }),
      post({ query: 'subscription { ticks(channel: "x") { n }' }),
      post({ query: 'subscription { ticks { n } }' }),
      // An unknown hash: Apollo Server answers PERSISTED_QUERY_NOT_FOUND, and the client resends with the query.
      post({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
      post({ query: ticks('x'), extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
      postGraphQLMultipart(unmountedUrl, ticks('x')),
    ];
    const answers = await Promise.all(passes.map(async (pass) => (await pass).text()));
    expect(answers).toStrictEqual(passes.map(() => JSON.stringify({ passedOn: true })));
    expect(fixture.listening('x')).toBe(0);
  });

  it('runs a persisted subscription: registered with its query, then sent by hash alone', async () => {
    const query = ticks('apq');
    const persistedQuery = { version: 1, sha256Hash: sha256(query) };
    const registering = await postGraphQLMultipart(url, query, { extensions: { persistedQuery }, headers: { authorization: 'Bearer u-apq' } });
    await listening('apq');
    fixture.end('apq');
    expect(await allMultipartParts(registering)).toStrictEqual([]);
    expect(fixture.documents.get(persistedQuery.sha256Hash)).toBe(query);
    const byHash = await postGraphQLMultipart(url, undefined, { extensions: { persistedQuery }, headers: { authorization: 'Bearer u-apq' } });
    await listening('apq');
    fixture.tick('apq', 3);
    fixture.end('apq');
    expect(await allMultipartParts(byHash)).toStrictEqual([payload('apq', 3)]);
  });

  it('tells the client the subgraph connection was lost with a transport-level error, and only then', async () => {
    const unavailable = { message: 'subgraph clock is unavailable', extensions: { code: 'SUBGRAPH_UNAVAILABLE' } };
    const other = { message: 'boom', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    const results: ExecutionResult[] = [
      { data: { ticks: { n: 1, channel: 's' } } },
      // Results that carry an unavailable subgraph's error but are results: data, another error, no error at all.
      { data: null, errors: [new GraphQLError(unavailable.message, { extensions: unavailable.extensions })] },
      {
        errors: [
          new GraphQLError(unavailable.message, { extensions: unavailable.extensions }),
          new GraphQLError(other.message, { extensions: other.extensions }),
        ],
      },
      { errors: [] },
      { errors: [new GraphQLError(unavailable.message, { extensions: unavailable.extensions })] },
    ];
    parts = mount(
      scripted(async function* () {
        yield* results;
      }),
    );
    const response = await subscribe('s', 'u-lost');
    expect(await allMultipartParts(response)).toStrictEqual([
      { payload: { data: { ticks: { n: 1, channel: 's' } } } },
      { payload: { data: null, errors: [unavailable] } },
      { payload: { errors: [unavailable, other] } },
      { payload: { errors: [] } },
      { payload: null, errors: [unavailable] },
    ]);
  });

  it('ends every stream with SHUTTING_DOWN when the gateway stops, and unsubscribes upstream', async () => {
    const response = await subscribe('stop', 'u-stop');
    await listening('stop');
    fixture.tick('stop', 1);
    const reader = multipartParts(response);
    expect((await reader.next()).value).toStrictEqual(payload('stop', 1));
    parts!.streams.close();
    const rest: unknown[] = [];
    for await (const part of reader) rest.push(part);
    expect(rest).toStrictEqual([
      {
        payload: null,
        errors: [{ message: 'the gateway is stopping: subscribe again', extensions: { code: 'SHUTTING_DOWN', formattedBy: 'host' } }],
      },
    ]);
    await eventually(async () => expect(fixture.ended).toContain('stop'), 15_000);
  });

  it("ends the stream when the caller's token expires, with the error HTTP answers such a token with", async () => {
    const response = await subscribe('expiry', 'expiring');
    expect(await allMultipartParts(response)).toStrictEqual([
      { payload: null, errors: [{ message: TOKEN_EXPIRED_MESSAGE, extensions: { code: 'UNAUTHENTICATED', formattedBy: 'host' } }] },
    ]);
    await eventually(async () => expect(fixture.listening('expiry')).toBe(0), 15_000);
  });

  it('a stream that fails inside the gateway ends with an INTERNAL_SERVER_ERROR transport error; the cause is logged', async () => {
    parts = mount(
      scripted(async function* () {
        yield { data: { ticks: { n: 1, channel: 'f' } } };
        throw new Error('lost the plan');
      }),
    );
    expect(await allMultipartParts(await subscribe('f', 'u-fail'))).toStrictEqual([
      { payload: { data: { ticks: { n: 1, channel: 'f' } } } },
      { payload: null, errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR', formattedBy: 'host' } }] },
    ]);
    expect(logged).toStrictEqual(['multipart subscription failed']);
  });

  it('a failure before the stream opens goes to the error handler, logged', async () => {
    parts = {
      ...mount(fixture.executor),
      executor: Object.assign(Object.create(fixture.executor) as FederatedExecutor, {
        prepare: () => {
          throw new Error('no schema');
        },
      }),
    };
    const response = await subscribe('never', 'u-broken');
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ failed: 'no schema' });
    expect(logged).toStrictEqual(['multipart subscription failed']);
  });
});
