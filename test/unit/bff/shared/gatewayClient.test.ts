/**
 * The BFF's gateway client against a loopback gateway the test scripts: what it sends, which
 * answers it hands back, and which become GATEWAY_UNAVAILABLE (down, 5xx, not GraphQL, past the
 * deadline, breaker open) with the Retry-After the breaker's reset implies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { createGatewayClient, GatewayUnavailableError, type GatewayClient } from '../../../../bff/shared';
import { recordingLogger, serveOnLoopback, type Loopback } from '../../../support/loopback';

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

const breaker = { errorThresholdPercentage: 50, volumeThreshold: 2, resetTimeoutMs: 60_000, rollingWindowMs: 60_000 };

describe('BFF gateway client', () => {
  let gateway: Loopback;
  let answer: (res: ServerResponse) => void;
  let seen: Seen[];
  let client: GatewayClient | undefined;
  let lines: Array<Record<string, unknown>>;
  let registry: Registry;

  const connect = (options: { timeoutMs?: number; resetTimeoutMs?: number; url?: string } = {}) => {
    const recording = recordingLogger();
    lines = recording.lines;
    registry = new Registry();
    client = createGatewayClient({ url: options.url ?? `${gateway.url}/graphql`, timeoutMs: options.timeoutMs ?? 5000, breaker: { ...breaker, resetTimeoutMs: options.resetTimeoutMs ?? breaker.resetTimeoutMs }, logger: recording.logger, registry });
    return client;
  };
  const json = (status: number, body: unknown) => (res: ServerResponse) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as GatewayUnavailableError);

  beforeEach(async () => {
    seen = [];
    answer = json(200, { data: { ok: true } });
    gateway = await serveOnLoopback((req, res) => {
      let text = '';
      req.on('data', (chunk) => (text += chunk));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body: JSON.parse(text) });
        answer(res);
      });
    });
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await gateway.close();
  });

  it('POSTs the operation as JSON with the correlation id and the bearer token, and returns the answer', async () => {
    connect();
    const response = await client!.execute({ query: '{ ok }', variables: { a: 1 }, operationName: 'Op', token: 'tok', correlationId: 'corr-9' });
    expect(response).toEqual({ status: 200, body: { data: { ok: true } } });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/graphql', body: { query: '{ ok }', variables: { a: 1 }, operationName: 'Op' } });
    expect(seen[0].headers).toMatchObject({ 'content-type': 'application/json', accept: 'application/json', 'x-correlation-id': 'corr-9', authorization: 'Bearer tok' });
  });

  it('sends no Authorization header for an anonymous call', async () => {
    connect();
    await client!.execute({ query: '{ ok }', correlationId: 'c' });
    expect(seen[0].headers.authorization).toBeUndefined();
  });

  it("hands back a 4xx GraphQL answer as the gateway's word, not an outage", async () => {
    connect();
    answer = json(400, { errors: [{ message: 'bad', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
    for (let i = 0; i < 3; i++) {
      expect(await client!.execute({ query: '{ nope }', correlationId: 'c' })).toEqual({ status: 400, body: { errors: [{ message: 'bad', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] } });
    }
    expect(lines).toEqual([]);
  });

  it('turns a 5xx into GATEWAY_UNAVAILABLE (503, retriable) naming the status, and logs it with the correlation id', async () => {
    connect({ resetTimeoutMs: 2500 });
    answer = json(502, { errors: [{ message: 'internal' }] });
    const error = await failure(client!.execute({ query: '{ ok }', correlationId: 'corr-5' }));
    expect(error).toBeInstanceOf(GatewayUnavailableError);
    expect(error).toMatchObject({ status: 503, code: 'GATEWAY_UNAVAILABLE', retriable: true, retryAfterSec: 3, message: 'the gateway is unavailable (HTTP 502); retry later' });
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', msg: 'gateway call failed', reason: 'HTTP 502', correlationId: 'corr-5' })]);
  });

  it('treats exactly 500 as a failure and 499 as an answer', async () => {
    connect();
    answer = json(500, {});
    expect(await failure(client!.execute({ query: '{ ok }', correlationId: 'c' }))).toMatchObject({ message: 'the gateway is unavailable (HTTP 500); retry later' });
    answer = json(499, { errors: [{ message: 'closed' }] });
    expect(await client!.execute({ query: '{ ok }', correlationId: 'c' })).toEqual({ status: 499, body: { errors: [{ message: 'closed' }] } });
  });

  it('turns an answer that is not GraphQL JSON into GATEWAY_UNAVAILABLE', async () => {
    connect();
    answer = (res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>not here</h1>');
    expect(await failure(client!.execute({ query: '{ ok }', correlationId: 'c' }))).toMatchObject({ code: 'GATEWAY_UNAVAILABLE', message: 'the gateway is unavailable (HTTP 404 without a GraphQL body); retry later' });
  });

  it('turns a gateway that refuses connections into GATEWAY_UNAVAILABLE naming the socket error', async () => {
    await gateway.close();
    connect();
    expect(await failure(client!.execute({ query: '{ ok }', correlationId: 'c' }))).toMatchObject({ code: 'GATEWAY_UNAVAILABLE', message: 'the gateway is unavailable (ECONNREFUSED); retry later' });
    gateway = await serveOnLoopback((_req, res) => res.end());
  });

  it('gives up on a hung gateway at the deadline, as timed out', async () => {
    connect({ timeoutMs: 150 });
    answer = () => undefined; // never answers
    expect(await failure(client!.execute({ query: '{ ok }', correlationId: 'c' }))).toMatchObject({ code: 'GATEWAY_UNAVAILABLE', message: 'the gateway is unavailable (timed out); retry later' });
  });

  it('opens its breaker after failures: the next call fails without reaching the gateway, with Retry-After of at least 1 s', async () => {
    connect({ resetTimeoutMs: 400 });
    answer = json(503, {});
    await failure(client!.execute({ query: '{ ok }', correlationId: 'c' }));
    await failure(client!.execute({ query: '{ ok }', correlationId: 'c' }));
    expect(seen).toHaveLength(2);
    answer = json(200, { data: { ok: true } });
    const error = await failure(client!.execute({ query: '{ ok }', correlationId: 'c' }));
    expect(error).toMatchObject({ message: 'the gateway is unavailable (breaker open); retry later', retryAfterSec: 1 });
    expect(seen).toHaveLength(2);
    const state = await registry.getSingleMetric('trellis_breaker_state')!.get();
    expect(state.values).toEqual([expect.objectContaining({ labels: { breaker: 'gateway', kind: 'guard' }, value: 2 })]);
  });

  it('refuses calls once closed', async () => {
    const closed = connect();
    await closed.close();
    client = undefined;
    expect(await failure(closed.execute({ query: '{ ok }', correlationId: 'c' }))).toMatchObject({ code: 'GATEWAY_UNAVAILABLE' });
    expect(seen).toEqual([]);
  });

  describe('stream: an answer handed back as it comes', () => {
    const MULTIPART = 'multipart/mixed;boundary="graphql";deferSpec=20220824';
    const part = (body: unknown) => `\r\n--graphql\r\ncontent-type: application/json\r\n\r\n${JSON.stringify(body)}`;

    it("sends the caller's accept, and yields the first part while the gateway still holds the rest", async () => {
      connect();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      answer = (res) => {
        res.writeHead(200, { 'content-type': MULTIPART });
        res.write(part({ data: { ok: true }, hasNext: true }));
        void held.then(() => res.end(`${part({ incremental: [{ data: { late: 1 }, path: [] }], hasNext: false })}\r\n--graphql--\r\n`));
      };
      const stream = await client!.stream({ query: '{ ok ... @defer { late } }', correlationId: 'c', accept: 'multipart/mixed;deferSpec=20220824, application/json' });
      expect([stream.status, stream.contentType]).toEqual([200, MULTIPART]);
      expect(seen[0].headers.accept).toBe('multipart/mixed;deferSpec=20220824, application/json');
      const chunks = stream.body[Symbol.asyncIterator]();
      // The gateway holds its last part until released: this first chunk can only be the first part.
      expect(Buffer.from((await chunks.next()).value as Uint8Array).toString()).toContain('"hasNext":true');
      release();
      let rest = '';
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) rest += Buffer.from(next.value as Uint8Array).toString();
      expect(rest).toContain('"late":1');
      expect(rest.endsWith('--graphql--\r\n')).toBe(true);
    });

    it('closes the connection to the gateway when aborted (the caller left)', async () => {
      connect();
      const closed = new Promise<void>((resolve) => {
        answer = (res) => {
          res.writeHead(200, { 'content-type': MULTIPART });
          res.write(part({ data: { ok: true }, hasNext: true }));
          res.once('close', () => resolve());
        };
      });
      const stream = await client!.stream({ query: '{ ok }', correlationId: 'c', accept: MULTIPART });
      await stream.body[Symbol.asyncIterator]().next();
      stream.abort();
      await closed;
    });

    it('turns a 5xx and a gateway that sends no headers by the deadline into GATEWAY_UNAVAILABLE', async () => {
      connect({ timeoutMs: 300 });
      answer = json(502, {});
      expect(await failure(client!.stream({ query: '{ ok }', correlationId: 'c', accept: MULTIPART }))).toMatchObject({ code: 'GATEWAY_UNAVAILABLE', message: 'the gateway is unavailable (HTTP 502); retry later' });
      answer = () => undefined; // never answers
      expect(await failure(client!.stream({ query: '{ ok }', correlationId: 'c', accept: MULTIPART }))).toMatchObject({ code: 'GATEWAY_UNAVAILABLE' });
    });
  });
});
