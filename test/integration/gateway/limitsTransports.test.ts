/**
 * The operation limits on every transport, against a gateway composed from a real subgraph: the
 * introspection depth and directive limits, and the supergraph's `@cost`/`@listSize` (which
 * composition carries into the supergraph and the gateway reads from there), refused alike on
 * HTTP, SSE and graphql-ws with the same codes, while GraphiQL's standard introspection passes.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { getIntrospectionQuery } from 'graphql';
import type { Subgraph, SubgraphFactory } from '@trellis/kit';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { postGraphQL, postGraphQLSse } from '../../support/graphql';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';

const sdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@listSize"])
  type Query {
    items(first: Int, last: Int): [Item!]! @listSize(slicingArguments: ["first", "last"])
    heavy: [Item!]! @cost(weight: 50) @listSize(assumedSize: 30)
    hello: String
  }
  type Item @key(fields: "id") { id: ID! }
`;

const shopSubgraph: SubgraphFactory = () => ({
  name: 'shop',
  typeDefs: sdl,
  resolvers: {
    Query: {
      items: (_: unknown, { first, last }: { first?: number; last?: number }) => Array.from({ length: first ?? last ?? 0 }, (_x, i) => ({ id: `i${i}` })),
      heavy: () => [],
      hello: () => 'hi',
    },
  },
});

type Body = { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };

describe('operation limits on HTTP, SSE and graphql-ws', () => {
  let shop: Subgraph;
  let gateway: InProcessGateway;

  beforeAll(async () => {
    shop = await startSubgraph(shopSubgraph, {});
    const composed = composeSupergraph([{ name: 'shop', sdl, url: shop.url }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    const supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-limits-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
    gateway = await startGateway({ SUPERGRAPH_PATH: supergraphPath, NODE_ENV: 'development', MAX_DIRECTIVES: '1', MAX_COST: '1000' });
  });

  afterAll(async () => {
    await gateway?.stop();
    await shop?.stop();
  });

  const overHttp = async (query: string) => (await postGraphQL(gateway.url, query)).body as Body;
  const overSse = async (query: string) => (await postGraphQLSse(gateway.url, query)).events.find((event) => event.event === 'next')?.data as Body;
  const overWebSocket = async (query: string): Promise<Body> => {
    const client = createClient({ url: gateway.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const results: Body[] = [];
      try {
        for await (const result of client.iterate({ query })) results.push(result as Body);
      } catch (errors) {
        return { errors: errors as Body['errors'] };
      }
      expect(results).toHaveLength(1);
      return results[0]!;
    } finally {
      await client.dispose();
    }
  };
  const transports = [
    ['HTTP', overHttp],
    ['SSE', overSse],
    ['graphql-ws', overWebSocket],
  ] as const;

  it.each(transports)("%s: GraphiQL's standard introspection query passes", async (_name, send) => {
    const body = await send(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }));
    expect(body.errors).toBeUndefined();
    expect((body.data?.__schema as { queryType: { name: string } }).queryType.name).toBe('Query');
  });

  it.each(transports)('%s: three nested introspection lists are INTROSPECTION_TOO_DEEP', async (_name, send) => {
    const body = await send('{ __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }');
    expect(body.data ?? undefined).toBeUndefined();
    expect(body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'INTROSPECTION_TOO_DEEP', limit: 2 }) })]);
  });

  it.each(transports)('%s: a field with more directives than MAX_DIRECTIVES is TOO_MANY_DIRECTIVES', async (_name, send) => {
    expect(await send('{ hello @include(if: true) }')).toEqual({ data: { hello: 'hi' } });
    const body = await send('{ hello @include(if: true) @skip(if: false) }');
    expect(body.errors?.[0].extensions).toMatchObject({ code: 'TOO_MANY_DIRECTIVES', measured: 2, limit: 1 });
  });

  it.each(transports)("%s: the supergraph's @listSize and @cost are enforced", async (_name, send) => {
    expect(await send('{ items(first: 2) { id } }')).toEqual({ data: { items: [{ id: 'i0' }, { id: 'i1' }] } });
    expect((await send('{ items { id } }')).errors?.[0].extensions).toMatchObject({ code: 'SLICING_ARGUMENT_REQUIRED', measured: 0, limit: 1 });
    expect((await send('{ items(first: 1, last: 1) { id } }')).errors?.[0].extensions).toMatchObject({ code: 'SLICING_ARGUMENT_REQUIRED', measured: 2 });
    // 30 assumed × (weight 50 + id 1) = 1530 over 1000
    expect((await send('{ heavy { id } }')).errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COSTLY', measured: 1530, limit: 1000 });
  });

  it("refuses a batch whose operations' costs add up past MAX_COST, each one under it", async () => {
    const one = { query: '{ items(first: 300) { id } }' }; // 300 × 2 = 600
    const alone = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([one]) });
    expect(alone.status).toBe(200);
    // A batch refusal is a request error: 400 under application/graphql-response+json, 200 under application/json.
    const both = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body: JSON.stringify([one, one]) });
    expect(both.status).toBe(400);
    const legacy = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify([one, one]) });
    expect(legacy.status).toBe(200);
    expect((await legacy.json()) as unknown).toEqual({ errors: [expect.objectContaining({ extensions: { code: 'QUERY_TOO_COSTLY', measured: 1200, limit: 1000 } })] });
    expect(await both.json()).toEqual({ errors: [expect.objectContaining({ extensions: { code: 'QUERY_TOO_COSTLY', measured: 1200, limit: 1000 } })] });
  });
});
