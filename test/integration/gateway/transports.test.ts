/**
 * One set of rules on every transport: a production gateway refuses introspection and documents
 * over MAX_TOKENS alike on HTTP, SSE and graphql-ws, with the same codes; and SSE over GET (which
 * any page can make cross-site) never runs a mutation. A document is planned once for all three
 * (the gateway's one plan store).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import type { Subgraph, SubgraphFactory } from '@trellis/kit';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { FEDERATION_LINK } from '../../../subgraphs/federation';
import { parseSseEvents, postGraphQL, postGraphQLSse } from '../../support/graphql';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import { PreparedDocuments } from '../../../gateway/subscriptions/preparedDocuments';

const sdl = `
  ${FEDERATION_LINK}
  type Query { count: Int! hello: String }
  type Mutation { bump: Int! }
`;

let count = 0;
const counterSubgraph: SubgraphFactory = () => ({
  name: 'counter',
  typeDefs: sdl,
  resolvers: { Query: { count: () => count, hello: () => 'hi' }, Mutation: { bump: () => ++count } },
});

const MAX_TOKENS = 40;
const MAX_BODY_BYTES = 4096;
const INTROSPECTION = '{ __schema { queryType { name } } }';
const MANY_TOKENS = `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: hello`).join(' ')} }`;

describe('the same rules on HTTP, SSE and graphql-ws', () => {
  let counter: Subgraph;
  let gateway: InProcessGateway;

  beforeAll(async () => {
    counter = await startSubgraph(counterSubgraph, {});
    const composed = composeSupergraph([{ name: 'counter', sdl, url: counter.url }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    const supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-transports-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
    gateway = await startGateway({ SUPERGRAPH_PATH: supergraphPath, NODE_ENV: 'production', MAX_TOKENS: String(MAX_TOKENS), MAX_ALIASES: '100', MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
  });

  afterAll(async () => {
    await gateway?.stop();
    await counter?.stop();
  });

  const overHttp = async (query: string) => (await postGraphQL(gateway.url, query)).body;
  const overSse = async (query: string) => (await postGraphQLSse(gateway.url, query)).events.find((event) => event.event === 'next')?.data;
  const overWebSocket = async (query: string) => {
    const client = createClient({ url: gateway.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const results: unknown[] = [];
      try {
        for await (const result of client.iterate({ query })) results.push(result);
      } catch (errors) {
        return { errors };
      }
      return results[0];
    } finally {
      await client.dispose();
    }
  };
  const codes = (body: unknown) => ((body as { errors?: Array<{ extensions?: { code?: string } }> }).errors ?? []).map((error) => error.extensions?.code);

  it.each([
    ['HTTP', overHttp],
    ['SSE', overSse],
    ['graphql-ws', overWebSocket],
  ])('%s: introspection is off in production', async (_name, send) => {
    const body = await send(INTROSPECTION);
    expect([...new Set(codes(body))]).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(JSON.stringify(body)).not.toContain('"Query"');
  });

  it.each([
    ['HTTP', overHttp],
    ['SSE', overSse],
    ['graphql-ws', overWebSocket],
  ])('%s: a document over MAX_TOKENS is TOO_MANY_TOKENS with the limit', async (_name, send) => {
    const body = (await send(MANY_TOKENS)) as { errors?: Array<{ extensions?: Record<string, unknown> }> };
    expect(body.errors?.[0].extensions).toMatchObject({ code: 'TOO_MANY_TOKENS', limit: MAX_TOKENS });
    expect(await overHttp('{ a: hello b: hello }')).toEqual({ data: { a: 'hi', b: 'hi' } });
  });

  it('SSE over GET refuses a mutation with 405 and never runs it; queries over GET and mutations over POST still work', async () => {
    const before = count;
    const response = await fetch(`${gateway.url}?query=${encodeURIComponent('mutation { bump }')}`, { headers: { accept: 'text/event-stream' } });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code).toBe('METHOD_NOT_ALLOWED');
    expect(count).toBe(before);

    const read = await fetch(`${gateway.url}?query=${encodeURIComponent('{ count }')}`, { headers: { accept: 'text/event-stream' } });
    expect(parseSseEvents(await read.text())[0].data).toEqual({ data: { count: before } });
    const posted = await postGraphQLSse(gateway.url, 'mutation { bump }');
    expect(posted.events[0].data).toEqual({ data: { bump: before + 1 } });
  });

  it('SSE speaks the graphql-sse protocol: its own client (distinct connections) runs a query and a mutation', async () => {
    const client = createSseClient({ url: gateway.url, singleConnection: false, retryAttempts: 0 });
    try {
      const run = async (query: string) => {
        const results: unknown[] = [];
        for await (const result of client.iterate({ query })) results.push(result);
        return results;
      };
      const before = count;
      expect(await run('{ count }')).toEqual([{ data: { count: before } }]);
      expect(await run('mutation { bump }')).toEqual([{ data: { bump: before + 1 } }]);
    } finally {
      client.dispose();
    }
  });

  it('SSE POST that a page can send without a preflight (text/plain, a form) is refused with 415 and never runs', async () => {
    const before = count;
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': contentType, accept: 'text/event-stream' }, body: JSON.stringify({ query: 'mutation { bump }' }) });
      expect(response.status).toBe(415);
    }
    expect(count).toBe(before);
  });

  it('SSE body over MAX_BODY_BYTES is 413 PAYLOAD_TOO_LARGE, as on HTTP', async () => {
    const query = `{ hello ${' '.repeat(MAX_BODY_BYTES)} }`;
    const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ query }) });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('SSE without a query is 400, and single-connection mode (a stream token) is refused by name', async () => {
    const missing = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({}) });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { errors: Array<{ message: string }> }).errors[0].message).toBe('Missing query');
    const empty = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' } });
    expect([empty.status, await empty.json()]).toEqual([400, { errors: [{ message: 'Missing query' }] }]);

    const reserved = await fetch(gateway.url, { headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': 'abc' } });
    expect(reserved.status).toBe(400);
    expect(await reserved.json()).toEqual({ errors: [{ message: expect.stringContaining('single-connection mode is not served'), extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('SSE accepts an Accept header that lists more than text/event-stream', async () => {
    const response = await fetch(`${gateway.url}?query=${encodeURIComponent('{ hello }')}`, { headers: { accept: 'text/event-stream, application/json;q=0.5' } });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(parseSseEvents(await response.text())).toEqual([{ event: 'next', data: { data: { hello: 'hi' } } }, { event: 'complete', data: undefined }]);
  });

  it('plans a document once for every transport: graphql-ws, SSE and HTTP share the gateway plan store', async () => {
    const planner = (gateway.server.gateway as unknown as { queryPlanner: { buildQueryPlan: (...args: unknown[]) => unknown } }).queryPlanner;
    const planned = jest.spyOn(planner, 'buildQueryPlan');
    try {
      const query = 'query SharedPlan { count first: hello n: count }';
      const plansOf = () => planned.mock.calls.length;
      const send = async (transport: (q: string) => Promise<unknown>) => expect(await transport(query)).toEqual({ data: { count, first: 'hi', n: count } });
      await send(overWebSocket);
      expect(plansOf()).toBe(1);
      await send(overWebSocket);
      await send(overSse);
      await send(overHttp);
      expect(plansOf()).toBe(1);
      // Another document is planned on its own, not served an unrelated plan.
      expect(await overWebSocket('query OtherPlan { other: hello }')).toEqual({ data: { other: 'hi' } });
      expect(plansOf()).toBe(2);
    } finally {
      planned.mockRestore();
    }
  });

  it('parses and validates a document once on graphql-ws and SSE, then serves it from the kept ones', async () => {
    const kept = jest.spyOn(PreparedDocuments.prototype, 'set');
    try {
      const query = 'query PreparedOnce { once: hello }';
      for (const send of [overWebSocket, overSse, overWebSocket]) expect(await send(query)).toEqual({ data: { once: 'hi' } });
      expect(kept.mock.calls.filter(([, text]) => text === query)).toHaveLength(1);
    } finally {
      kept.mockRestore();
    }
  });
});
