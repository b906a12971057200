/**
 * HttpStreams, what SSE and multipart share, on loopback through the real FederatedExecutor, behind
 * a transport of the test's own (each result a JSON line, then why the stream ended), so what it
 * decides shows as a client sees it: the checks before the stream (a bad persisted-query hash 400,
 * a GET mutation 405 with Allow, the context's refusals with their status and headers), the
 * answer headers and trace the context brings, the caller's slot held while the stream lives and
 * freed at its end, and the stream ended (upstream too) by the client, the gateway or the token.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { trace } from '@opentelemetry/api';
import { HttpStreams, type StreamRequest } from '../../../../gateway/subscriptions/httpStreams';
import { SubscriptionSlots } from '../../../../gateway/subscriptions/slots';
import { sha256 } from '../../../../gateway/persisted/manifest';
import { eventually } from '../../../support/graphql';
import { recordSpans } from '../../../support/recordedSpans';
import { streamsGateway, type StreamsGateway } from './streamsGateway';

const ticks = (channel: string) => `subscription { ticks(channel: "${channel}") { n } }`;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('HttpStreams', () => {
  recordSpans();
  let fixture: StreamsGateway;
  let streams: HttpStreams;
  let tracing = false;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    fixture = await streamsGateway();
    const app = express();
    app.use(express.json());
    app.all('/stream', async (req, res) => {
      const params = (req.method === 'GET' ? req.query : req.body) as StreamRequest['params'];
      const opened = await streams.start({
        method: req.method,
        params: req.method === 'GET' && typeof params.extensions === 'string' ? { ...params, extensions: JSON.parse(params.extensions) } : params,
        header: (name) => req.header(name),
        rawHeaders: req.headers,
        clientAddress: req.socket.remoteAddress,
        correlationId: req.header('x-correlation-id'),
        res,
      });
      if (opened.kind === 'refused') return void res.status(opened.status).set(opened.headers).json(opened.body);
      res.status(200).setHeader('content-type', 'application/x-ndjson');
      res.flushHeaders();
      for await (const result of opened.results) res.write(`${JSON.stringify(result)}\n`);
      res.end(`${JSON.stringify({ interruption: opened.interruption() ?? null })}\n`);
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stream`;
  }, 60_000);

  beforeEach(() => {
    streams = new HttpStreams(fixture.host, fixture.executor, {
      slots: new SubscriptionSlots({ maxPerConnection: 0, maxPerUser: 1 }),
      tracing,
    });
    fixture.contexts.length = 0;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await fixture?.stop();
  });

  const post = (body: unknown, headers: Record<string, string> = {}, signal = AbortSignal.timeout(15_000)) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal });
  const get = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${url}?${new URLSearchParams(params)}`, { headers, signal: AbortSignal.timeout(15_000) });
  const lines = async (response: Response) =>
    (await response.text())
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as unknown);
  const listening = (channel: string, count = 1) =>
    eventually(async () => expect(fixture.listening(channel)).toBe(count), 15_000);

  it('streams a subscription sent by GET, with the context built from the request and its answer headers', async () => {
    const response = await get({ query: ticks('get') }, { authorization: 'Bearer u-get', 'x-correlation-id': 'corr-7' });
    await listening('get');
    fixture.tick('get', 1);
    fixture.end('get');
    expect(response.status).toBe(200);
    expect(response.headers.get('ratelimit')).toBe('limit=10, remaining=9');
    expect(await lines(response)).toStrictEqual([{ data: { ticks: { n: 1 } } }, { interruption: null }]);
    expect(fixture.contexts).toHaveLength(1);
    expect(fixture.contexts[0]).toMatchObject({ correlationId: 'corr-7', clientAddress: '127.0.0.1', user: { id: 'u-get' } });
    // No tracing: the stream does not continue a trace it was sent.
    expect(fixture.contexts[0]!.traceParent).toBeUndefined();
  });

  it('a query and a POST mutation run as one result; a GET mutation is refused with 405 and Allow: POST', async () => {
    expect(await lines(await get({ query: '{ tick(n: 4) { n } }' }))).toStrictEqual([{ data: { tick: { n: 4 } } }, { interruption: null }]);
    expect(await lines(await post({ query: 'mutation { reset }' }))).toStrictEqual([{ data: { reset: true } }, { interruption: null }]);
    const refused = await get({ query: 'mutation { reset }' });
    expect(refused.status).toBe(405);
    expect(refused.headers.get('allow')).toBe('POST');
    expect(await refused.json()).toEqual({
      errors: [{ message: 'a mutation can only be sent with POST', extensions: { code: 'METHOD_NOT_ALLOWED' } }],
    });
    // Refused before the context: nothing was built, nothing ran.
    expect(fixture.contexts).toHaveLength(2);
  });

  it('a GET document that does not parse is answered in the stream, as any other', async () => {
    const [result, end] = (await lines(await get({ query: '{ tick(n: 4) { n }' }))) as Array<{ errors?: Array<{ extensions: { code: string } }> }>;
    expect(result!.errors!.map((error) => error.extensions.code)).toStrictEqual(['GRAPHQL_PARSE_FAILED']);
    expect(end).toStrictEqual({ interruption: null });
  });

  it('a persisted query: a bad hash or version is a 400, an unknown hash an error in the stream, a registered one runs', async () => {
    const query = ticks('apq');
    const mismatch = await post({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ tick(n: 1) { n } }') } } });
    expect(mismatch.status).toBe(400);
    expect(await mismatch.json()).toEqual({
      errors: [{ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST', formattedBy: 'host' } }],
    });
    const version = await get({ extensions: JSON.stringify({ persistedQuery: { version: 2, sha256Hash: sha256(query) } }) });
    expect(version.status).toBe(400);
    expect(await version.json()).toEqual({
      errors: [{ message: 'Unsupported persisted query version', extensions: { code: 'BAD_REQUEST', formattedBy: 'host' } }],
    });
    const unknown = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } });
    expect(unknown.status).toBe(200);
    expect(await lines(unknown)).toStrictEqual([
      { errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', formattedBy: 'host' } }] },
      { interruption: null },
    ]);
    expect(fixture.contexts).toHaveLength(0);
    const registering = await post({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } });
    await listening('apq');
    fixture.end('apq');
    expect(await lines(registering)).toStrictEqual([{ interruption: null }]);
    expect(fixture.documents.get(sha256(query))).toBe(query);
  });

  it('refused while building the context: the refusal\'s status and headers, the error formatted without its http extension', async () => {
    const limited = await post({ query: ticks('never') }, { authorization: 'Bearer slow-down' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toEqual({
      errors: [{ message: 'too many requests', extensions: { code: 'RATE_LIMITED', formattedBy: 'host' } }],
    });
    const bad = await post({ query: ticks('never') }, { authorization: 'Bearer nope' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('retry-after')).toBeNull();
    expect(await bad.json()).toEqual({
      errors: [{ message: 'bad token', extensions: { code: 'UNAUTHENTICATED', formattedBy: 'host' } }],
    });
  });

  it("holds the caller's slot while a subscription streams (a query takes none), and frees it when the stream ends", async () => {
    const first = await post({ query: ticks('slot') }, { authorization: 'Bearer u-slot' });
    await listening('slot');
    const refused = await post({ query: ticks('slot') }, { authorization: 'Bearer u-slot' });
    expect(await lines(refused)).toStrictEqual([
      {
        errors: [
          {
            message: 'this client already has 1 open subscriptions, the most allowed; end one first',
            extensions: { code: 'TOO_MANY_SUBSCRIPTIONS_PER_USER', limit: 1, formattedBy: 'host' },
          },
        ],
      },
      { interruption: null },
    ]);
    // Another caller, and a query of the same caller, are not held back.
    const other = await post({ query: ticks('slot') }, { authorization: 'Bearer u-other' });
    await listening('slot', 2);
    expect(await lines(await post({ query: '{ tick(n: 2) { n } }' }, { authorization: 'Bearer u-slot' }))).toStrictEqual([
      { data: { tick: { n: 2 } } },
      { interruption: null },
    ]);
    fixture.end('slot');
    expect(await lines(first)).toStrictEqual([{ interruption: null }]);
    expect(await lines(other)).toStrictEqual([{ interruption: null }]);
    const again = await post({ query: ticks('slot') }, { authorization: 'Bearer u-slot' });
    await listening('slot');
    fixture.tick('slot', 5);
    fixture.end('slot');
    expect(await lines(again)).toStrictEqual([{ data: { ticks: { n: 5 } } }, { interruption: null }]);
  });

  it('the client leaving ends the upstream subscription at once and frees the slot', async () => {
    const leave = new AbortController();
    const response = await post({ query: ticks('leave') }, { authorization: 'Bearer u-leave' }, leave.signal);
    await listening('leave');
    expect(response.status).toBe(200);
    leave.abort();
    await eventually(async () => expect(fixture.ended).toContain('leave'), 15_000);
    expect(fixture.listening('leave')).toBe(0);
    const again = await post({ query: ticks('leave') }, { authorization: 'Bearer u-leave' });
    await listening('leave');
    fixture.end('leave');
    expect(await lines(again)).toStrictEqual([{ interruption: null }]);
  });

  it('close() ends every open stream, as stopping, and frees their slots', async () => {
    const a = post({ query: ticks('close-a') }, { authorization: 'Bearer u-close' });
    const b = post({ query: ticks('close-b') }, { authorization: 'Bearer u-close-b' });
    await listening('close-a');
    await listening('close-b');
    streams.close();
    expect(await lines(await a)).toStrictEqual([{ interruption: 'stopping' }]);
    expect(await lines(await b)).toStrictEqual([{ interruption: 'stopping' }]);
    await eventually(async () => expect(fixture.ended).toEqual(expect.arrayContaining(['close-a', 'close-b'])), 15_000);
    // A stream that ended is no longer closed on stop: the next one runs to its own end.
    const again = await post({ query: ticks('close-a') }, { authorization: 'Bearer u-close' });
    await listening('close-a');
    fixture.end('close-a');
    expect(await lines(again)).toStrictEqual([{ interruption: null }]);
  });

  it("ends at the token's expiry, as token expired, and the upstream subscription with it", async () => {
    const response = await post({ query: ticks('expiry') }, { authorization: 'Bearer expiring' });
    expect(await lines(response)).toStrictEqual([{ interruption: 'token expired' }]);
    await eventually(async () => expect(fixture.listening('expiry')).toBe(0), 15_000);
  });

  describe('with tracing', () => {
    beforeAll(() => void (tracing = true));
    afterAll(() => void (tracing = false));

    it("continues the caller's trace (W3C traceparent)", async () => {
      const response = await post(
        { query: '{ tick(n: 1) { n } }' },
        { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
      );
      expect(await lines(response)).toStrictEqual([{ data: { tick: { n: 1 } } }, { interruption: null }]);
      expect(trace.getSpanContext(fixture.contexts[0]!.traceParent!)?.traceId).toBe(TRACE_ID);
    });
  });
});
