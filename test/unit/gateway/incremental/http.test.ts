/**
 * `@defer` over HTTP on loopback, through the real FederatedExecutor (deferGateway.ts) and the
 * kit's negotiation: a deferred POST admitting an incremental format streams in it, part by part;
 * everything Apollo Server answers better is passed on untouched (what passes on answers 299
 * here); a refusal while building the context keeps its status and headers; a refusal by the
 * checks is one JSON answer; a stream that fails ends with an INTERNAL_SERVER_ERROR part; each
 * streamed request is counted by operation and outcome.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { GraphQLError } from 'graphql';
import { negotiateGraphQLAnswer } from '@trellis/kit/internal';
import type { Logger } from '@trellis/kit';
import { INCREMENTAL_SPECS } from '../../../../gateway/incremental';
import { deferredOverHttp } from '../../../../gateway/incremental/http';
import type { FederatedExecutor } from '../../../../gateway/subscriptions/federatedExecutor';
import type { GatewayHost } from '../../../../gateway/extension';
import type { PersistableRequest } from '../../../../gateway/persisted/documents';
import { allMultipartParts } from '../../../support/multipartParts';
import { anonymousContext, deferGateway, type DeferGateway } from './deferGateway';

const DEFER = 'multipart/mixed;deferSpec=20220824';
const V02 = 'multipart/mixed;incrementalSpec=v0.2';
const deferred = '{ product(id: "p1") { name ... @defer { stock } } }';

describe('deferredOverHttp', () => {
  let fixture: DeferGateway;
  let server: Server;
  let url: string;
  const logged: string[] = [];
  const recorded: Array<[string | null | undefined, string]> = [];
  /** What the handler runs: the fixture's executor, or a faulty one a test puts in. */
  let executor: () => FederatedExecutor;

  beforeAll(async () => {
    fixture = await deferGateway();
    const host = {
      gateway: fixture.gateway,
      resolveDocument: async (body: PersistableRequest) => {
        if (body.query === undefined) throw new GraphQLError('PersistedQueryNotFound');
        return { query: body.query };
      },
      buildContext: async (header: (name: string) => string | undefined) => {
        const token = header('authorization');
        if (token === 'Bearer slow-down')
          throw Object.assign(new Error('too many requests'), {
            extensions: { code: 'RATE_LIMITED', http: { status: 429, headers: new Map([['retry-after', '7']]) } },
          });
        if (token) throw Object.assign(new Error('bad token'), { extensions: { code: 'UNAUTHENTICATED' } });
        return { ...anonymousContext(), responseHeaders: { 'x-served-by': 'defer' } };
      },
      formatError: (formatted: { message: string; extensions?: Record<string, unknown> }) => ({
        ...formatted,
        extensions: { ...formatted.extensions, formattedBy: 'host' },
      }),
    } as unknown as GatewayHost;
    const logger = { error: (_: unknown, message: string) => logged.push(message) } as unknown as Logger;
    const metrics = { recordRequest: (name: string | null | undefined, outcome: string) => recorded.push([name, outcome]) };
    const app = express();
    app.use('/graphql', negotiateGraphQLAnswer({ multipart: INCREMENTAL_SPECS }), express.json());
    app.use('/graphql', deferredOverHttp(host, () => executor(), logger, metrics));
    app.use('/graphql', (_req: Request, res: Response) => void res.status(299).json({ passedOn: true }));
    app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => void res.status(500).json({ failed: error.message }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });

  beforeEach(() => {
    executor = () => fixture.executor;
    logged.length = 0;
    recorded.length = 0;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await fixture.stop();
  });

  const post = (body: unknown, headers: Record<string, string> = { accept: DEFER }, method = 'POST') =>
    fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(15_000),
    });

  it('deferSpec=20220824: the parts in that format, the context headers, counted by operation as a success', async () => {
    const response = await post({ query: `query Stock ${deferred}` }, { accept: `${DEFER}, application/json` });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('deferSpec=20220824');
    expect(response.headers.get('x-served-by')).toBe('defer');
    expect(await allMultipartParts(response)).toStrictEqual([
      { data: { product: { name: 'Product p1' } }, hasNext: true },
      { incremental: [{ data: { stock: 10 }, path: ['product'] }], hasNext: false },
    ]);
    expect(recorded).toStrictEqual([['Stock', 'success']]);
  });

  it('incrementalSpec=v0.2: pending, incremental and completed by id; an anonymous operation counted without a name', async () => {
    const response = await post({ query: deferred, variables: null, operationName: null }, { accept: V02 });
    expect(response.headers.get('content-type')).toContain('incrementalSpec=v0.2');
    expect(await allMultipartParts(response)).toStrictEqual([
      { data: { product: { name: 'Product p1' } }, pending: [{ id: '0', path: ['product'] }], hasNext: true },
      { incremental: [{ id: '0', data: { stock: 10 } }], completed: [{ id: '0' }], hasNext: false },
    ]);
    expect(recorded).toStrictEqual([[undefined, 'success']]);
  });

  it('an error in a deferred part: the error in that part, the request counted as partial', async () => {
    const response = await post({ query: '{ product(id: "p2") { name ... @defer { warehouse } } }' });
    const parts = (await allMultipartParts(response)) as Array<{ incremental?: Array<{ errors?: unknown[] }> }>;
    expect(parts[1]!.incremental![0]!.errors).toEqual([
      expect.objectContaining({ message: 'warehouse p2 is closed', path: ['product', 'warehouse'] }),
    ]);
    expect(recorded).toStrictEqual([[undefined, 'partial']]);
  });

  it('a deferred part that fails as a whole counts the request as partial too', async () => {
    fixture.inventoryDown = true;
    try {
      const parts = await allMultipartParts(await post({ query: deferred }));
      expect(parts[1]).toMatchObject({ incremental: [{ data: null, path: ['product'] }] });
      expect(recorded).toStrictEqual([[undefined, 'partial']]);
    } finally {
      fixture.inventoryDown = false;
    }
  });

  it('what Apollo Server answers goes on to it untouched', async () => {
    const passes = [
      post({ query: deferred }, { accept: DEFER }, 'GET'),
      post({ query: deferred }, { accept: 'application/json' }),
      // No body at all (nothing for express.json to read).
      fetch(url, { method: 'POST', headers: { accept: DEFER }, signal: AbortSignal.timeout(15_000) }),
      post({ query: deferred, variables: [1] }),
      post({ query: deferred, variables: 'x' }),
      post({ query: deferred, operationName: 3 }),
      post({ extensions: { persistedQuery: { version: 1, sha256Hash: 'ab' } } }),
      post({ query: '{ product(id: "p1") { name ... @defer { stock } }' }),
      post({ query: '{ product(id: "p1") { unknown } }' }),
      post({ query: '{ product(id: "p1") { name } }' }, { accept: `${DEFER}, application/json` }),
      post({ query: 'query Q($id: ID!) { product(id: $id) { name ... @defer { stock } } }', variables: {} }),
      post({ query: 'query Q($later: Boolean!) { product(id: "p1") { ... @defer(if: $later) { stock } } }', variables: { later: 'x' } }),
    ];
    const answers = await Promise.all(passes.map(async (pass) => (await pass).text()));
    expect(answers).toStrictEqual(passes.map(() => JSON.stringify({ passedOn: true })));
    expect(recorded).toStrictEqual([]);
  });

  it('a query without @defer from a client admitting only incremental delivery is one part in that format', async () => {
    const response = await post({ query: '{ product(id: "p1") { name } }' }, { accept: V02 });
    expect(await allMultipartParts(response)).toStrictEqual([{ data: { product: { name: 'Product p1' } }, hasNext: false }]);
  });

  it('refused while building the context: the status and headers the refusal carries, the error formatted by the host', async () => {
    const limited = await post({ query: deferred }, { accept: DEFER, authorization: 'Bearer slow-down' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    // toEqual: fetch's JSON is of another realm; JSON has no undefined for it to overlook.
    expect(await limited.json()).toEqual({
      errors: [{ message: 'too many requests', extensions: { code: 'RATE_LIMITED', formattedBy: 'host' } }],
    });
    const bad = await post({ query: deferred }, { accept: DEFER, authorization: 'Bearer nope' });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({
      errors: [{ message: 'bad token', extensions: { code: 'UNAUTHENTICATED', formattedBy: 'host' } }],
    });
    expect(recorded).toStrictEqual([]);
  });

  it('refused by the checks: one JSON answer with the status of any refused query, counted as an error', async () => {
    const query = '{ product(id: "p1") { name ... @defer { a: stock b: stock c: stock } } }';
    const refused = await post({ query }, { accept: `${DEFER}, application/graphql-response+json` });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect(await refused.json()).toEqual({
      errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'TOO_MANY_ALIASES' }) })],
    });
    expect(recorded).toStrictEqual([[undefined, 'error']]);
  });

  it('a stream that fails after its first part ends with an INTERNAL_SERVER_ERROR part; the cause is logged', async () => {
    const real = fixture.executor;
    executor = () =>
      Object.assign(Object.create(real) as FederatedExecutor, {
        async *executeIncremental(...args: Parameters<FederatedExecutor['executeIncremental']>) {
          for await (const payload of real.executeIncremental(...args)) {
            yield payload;
            throw new Error('lost the plan');
          }
        },
      });
    const parts = await allMultipartParts(await post({ query: deferred }));
    expect(parts).toStrictEqual([
      { data: { product: { name: 'Product p1' } }, hasNext: true },
      { hasNext: false, errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] },
    ]);
    expect(logged).toStrictEqual(['deferred stream failed']);
    expect(recorded).toStrictEqual([[undefined, 'partial']]);
  });

  it('an executor that delivers nothing, or fails before the first part, is a server error, logged', async () => {
    const real = fixture.executor;
    const faulty = (executeIncremental: () => AsyncGenerator<never>) => () =>
      Object.assign(Object.create(real) as FederatedExecutor, { executeIncremental });
    executor = faulty(async function* () {
      yield* [] as never[];
    });
    const empty = await post({ query: deferred });
    expect([empty.status, await empty.json()]).toEqual([500, { failed: 'a deferred operation delivered nothing' }]);
    executor = faulty(async function* () {
      yield* [] as never[];
      throw new Error('planner gone');
    });
    const failed = await post({ query: deferred });
    expect([failed.status, await failed.json()]).toEqual([500, { failed: 'planner gone' }]);
    expect(logged).toStrictEqual(['deferred request failed', 'deferred request failed']);
    expect(recorded).toStrictEqual([]);
  });
});
