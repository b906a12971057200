/**
 * Issue 32 item 1, "done when": a deferred query across four subgraphs answers its primary part
 * while the slow subgraph is still held (a gate the test opens, never a sleep), then the deferred
 * part, over real HTTP through the gateway, in both incremental wire formats; and the same query
 * without a multipart Accept is answered whole.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import type { Subgraph } from '@trellis/kit';
import { eventually, postGraphQL } from '../../support/graphql';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import { allMultipartParts, multipartParts } from '../../support/multipartParts';
import type { CaseSubgraph } from '../../support/planner/cases';
import { sha256 } from '../../../gateway/persisted';
import { metricSum } from '../../support/metrics';

const link = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';

/** A promise the test resolves: the inventory subgraph answers only once it is opened. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let entered!: () => void;
  const reached = new Promise<void>((resolve) => (entered = resolve));
  return { open, opened, entered, reached };
}

describe('@defer through the gateway', () => {
  const running: Array<{ stop(): Promise<void> }> = [];
  let gateway: InProcessGateway;
  let held = gate();

  beforeAll(async () => {
    const subgraphs: CaseSubgraph[] = [
      {
        name: 'products',
        typeDefs: `${link}\n type Query { product(id: ID!): Product }\n type Product @key(fields: "id") { id: ID! name: String! }`,
        resolvers: {
          Query: { product: (_: unknown, { id }: { id: string }) => ({ id, name: `Product ${id}` }) },
          Product: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: `Product ${ref.id}` }) },
        },
      },
      {
        name: 'reviews',
        typeDefs: `${link}\n type Product @key(fields: "id") { id: ID! reviews: [Review!]! }\n type Review { body: String! author: User! }\n type User @key(fields: "id", resolvable: false) { id: ID! }`,
        resolvers: {
          Product: { reviews: (product: { id: string }) => [{ body: `great ${product.id}`, author: { id: 'u1' } }] },
        },
      },
      {
        name: 'users',
        typeDefs: `${link}\n type User @key(fields: "id") { id: ID! name: String! }`,
        resolvers: { User: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: `User ${ref.id}` }) } },
      },
      {
        name: 'inventory',
        typeDefs: `${link}\n type Product @key(fields: "id") { id: ID! stock: Int! }`,
        resolvers: {
          Product: {
            stock: async () => {
              held.entered();
              await held.opened;
              return 7;
            },
          },
        },
      },
    ];
    const served: Array<{ name: string; sdl: string; url: string }> = [];
    for (const { name, typeDefs, resolvers } of subgraphs) {
      const subgraph: Subgraph = await startSubgraph(() => ({ name: `defer-${name}`, typeDefs, resolvers }), {});
      running.push(subgraph);
      served.push({ name, sdl: typeDefs, url: subgraph.url });
    }
    const composed = composeSupergraph(served);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-defer-')), 'supergraph.graphql');
    writeFileSync(file, composed.supergraphSdl);
    gateway = await startGateway({ SUPERGRAPH_PATH: file, MAX_ALIASES: '3' });
    running.push(gateway);
  });

  afterAll(async () => {
    held.open();
    for (const thing of running.splice(0).reverse()) await thing.stop();
  });

  beforeEach(() => {
    held = gate();
  });

  const query =
    'query Page { product(id: "p1") { id name reviews { body author { name } } ... @defer(label: "stock") { stock } } }';
  const primary = {
    product: { id: 'p1', name: 'Product p1', reviews: [{ body: 'great p1', author: { name: 'User u1' } }] },
  };

  const stream = (accept: string) =>
    fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept },
      body: JSON.stringify({ query, operationName: 'Page' }),
      signal: AbortSignal.timeout(15_000),
    });

  it('deferSpec=20220824: the primary part arrives while inventory is held, the stock once it answers', async () => {
    const response = await stream('multipart/mixed;deferSpec=20220824, application/json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";deferSpec=20220824');
    const parts = multipartParts(response);
    expect((await parts.next()).value).toEqual({ data: primary, hasNext: true });
    // The primary part is here and inventory has the stock request, still unanswered.
    await held.reached;
    held.open();
    expect((await parts.next()).value).toEqual({
      incremental: [{ data: { stock: 7 }, path: ['product'], label: 'stock' }],
      hasNext: false,
    });
    expect((await parts.next()).done).toBe(true);
  });

  it('incrementalSpec=v0.2: pending with the primary part while inventory is held, then incremental and completed', async () => {
    const response = await stream('multipart/mixed;incrementalSpec=v0.2');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";incrementalSpec=v0.2');
    const parts = multipartParts(response);
    expect((await parts.next()).value).toEqual({
      data: primary,
      pending: [{ id: '0', path: ['product'], label: 'stock' }],
      hasNext: true,
    });
    await held.reached;
    held.open();
    expect((await parts.next()).value).toEqual({
      incremental: [{ id: '0', data: { stock: 7 } }],
      completed: [{ id: '0' }],
      hasNext: false,
    });
    expect((await parts.next()).done).toBe(true);
  });

  it('without a multipart Accept, the whole result at once (never a 406)', async () => {
    held.open();
    for (const accept of ['application/json', 'application/graphql-response+json']) {
      const { status, body } = await postGraphQL(gateway.url, query, { headers: { accept } });
      expect(status).toBe(200);
      expect(body).toEqual({ data: { product: { ...primary.product, stock: 7 } } });
    }
  });

  const post = (body: unknown, headers: Record<string, string>) =>
    fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  const deferred = { accept: 'multipart/mixed;deferSpec=20220824, application/graphql-response+json' };

  it('a persisted query (APQ) streams once registered, by its hash alone', async () => {
    held.open();
    const persistedQuery = 'query Apq { product(id: "p2") { name ... @defer { stock } } }';
    const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(persistedQuery) } };
    const unknown = await post({ extensions }, deferred);
    expect(
      ((await unknown.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code,
    ).toBe('PERSISTED_QUERY_NOT_FOUND');
    const streamed = [
      { data: { product: { name: 'Product p2' } }, hasNext: true },
      { incremental: [{ data: { stock: 7 }, path: ['product'] }], hasNext: false },
    ];
    expect(await allMultipartParts(await post({ query: persistedQuery, extensions }, deferred))).toEqual(streamed);
    expect(await allMultipartParts(await post({ extensions }, deferred))).toEqual(streamed);
  });

  it('a limit exceeded inside a deferred fragment is refused before anything runs, with the status of any refused query', async () => {
    const tooMany = { query: '{ product(id: "p1") { name ... @defer { a: stock b: stock c: stock d: stock } } }' };
    const refused = await post(tooMany, deferred);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect(await refused.json()).toEqual({
      errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'TOO_MANY_ALIASES' }) })],
    });
    // A client that admits only multipart is a legacy JSON client for a refusal: 200, errors in the body.
    const legacy = await post(tooMany, { accept: 'multipart/mixed;deferSpec=20220824' });
    expect([legacy.status, legacy.headers.get('content-type')]).toEqual([200, 'application/json; charset=utf-8']);
  });

  it('a bad token is refused with 401 as on any query', async () => {
    const refused = await post({ query }, { ...deferred, authorization: 'Bearer not-a-token' });
    expect(refused.status).toBe(401);
    expect(
      ((await refused.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code,
    ).toBe('UNAUTHENTICATED');
  });

  it('a streamed request is counted and timed as any request, by operation name and outcome', async () => {
    held.open();
    const counted = 'query Counted { product(id: "p3") { name ... @defer { stock } } }';
    expect(await allMultipartParts(await post({ query: counted }, deferred))).toHaveLength(2);
    const metrics = `${gateway.server.admin.url}/metrics`;
    const successOfCounted = { operation: 'Counted', outcome: 'success' };
    // Recorded when the stream has ended, which the client may see a moment before.
    await eventually(async () =>
      expect(await metricSum(metrics, 'trellis_gateway_requests_total', successOfCounted)).toBe(1),
    );
    expect(
      await metricSum(metrics, 'trellis_gateway_request_duration_seconds_count', {
        operation: 'Counted',
        outcome: 'success',
      }),
    ).toBe(1);
  });
});
