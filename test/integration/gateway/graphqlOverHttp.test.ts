/**
 * GraphQL-over-HTTP conformance: the specification's own audit suite (graphql-http's
 * `serverAudits`, written by the specification's authors) run over real HTTP against the gateway
 * and against a kit subgraph. A failed MUST fails the test; a failed SHOULD or MAY must be one we
 * chose and documented (docs/clients.md), so a new one fails too. The results are printed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serverAudits, type AuditResult } from 'graphql-http';
import type { Subgraph, SubgraphFactory } from '@trellis/kit';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { FEDERATION_LINK } from '../../../subgraphs/federation';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import { allMultipartParts } from '../../support/multipartParts';

const sdl = `
  ${FEDERATION_LINK}
  type Query { hello: String }
  type Mutation { bump: Int! }
`;

const helloSubgraph: SubgraphFactory = () => ({
  name: 'hello',
  typeDefs: sdl,
  resolvers: { Query: { hello: () => 'hi' }, Mutation: { bump: () => 1 } },
});

/**
 * The audits Trellis fails on purpose, each a MAY (docs/clients.md says the same): a plain GET,
 * without `Content-Type: application/json` or an `apollo-require-preflight` header, is refused by
 * CSRF prevention, since any page could make it cross-site.
 */
const CSRF = 'CSRF prevention refuses a GET without a preflight-forcing header';
const CHOSEN_DEPARTURES: Record<string, string> = { '5A70': CSRF, D6D5: CSRF, '6A70': CSRF };

async function audit(url: string): Promise<AuditResult[]> {
  return Promise.all(serverAudits({ url }).map((one) => one.fn()));
}

function report(name: string, results: AuditResult[]): void {
  const failed = results.filter((result) => result.status !== 'ok');
  const lines = failed.map((result) => `${result.status} ${result.id} ${result.name}: ${'reason' in result ? result.reason : ''}`);
  process.stdout.write(`${name}: ${results.length - failed.length}/${results.length} audits pass\n${lines.join('\n')}\n`);
}

describe('GraphQL-over-HTTP conformance (graphql-http serverAudits)', () => {
  let subgraph: Subgraph;
  let gateway: InProcessGateway;
  let rateLimited: InProcessGateway;

  beforeAll(async () => {
    subgraph = await startSubgraph(helloSubgraph, {});
    const composed = composeSupergraph([{ name: 'hello', sdl, url: subgraph.url }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    const supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-graphql-http-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
    gateway = await startGateway({ SUPERGRAPH_PATH: supergraphPath, MAX_ALIASES: '3', MAX_BATCH: '2', MAX_BODY_BYTES: '2048' });
    rateLimited = await startGateway({ SUPERGRAPH_PATH: supergraphPath, GATEWAY_RATE_LIMIT: '1' });
  });

  afterAll(async () => {
    await gateway?.stop();
    await rateLimited?.stop();
    await subgraph?.stop();
  });

  it.each([
    ['the gateway', () => gateway.url],
    ['a kit subgraph', () => subgraph.url],
  ])('%s passes every MUST and SHOULD, and every MAY but the documented ones', async (name, url) => {
    const results = await audit(url());
    report(name, results);
    expect(results.length).toBeGreaterThan(50);
    const departures = results.filter((result) => result.status !== 'ok').map((result) => `${result.id} ${result.name}`);
    expect(departures).toEqual(Object.keys(CHOSEN_DEPARTURES).map((id) => `${id} ${results.find((result) => result.id === id)?.name}`));
  });

  const GRAPHQL_RESPONSE = 'application/graphql-response+json';
  const JSON_TYPE = 'application/json';
  const post = (url: string, body: string, headers: Record<string, string>) => fetch(url, { method: 'POST', headers: { 'content-type': JSON_TYPE, ...headers }, body });
  const answer = async (response: Response) => ({
    status: response.status,
    type: response.headers.get('content-type'),
    codes: (((await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> }).errors ?? []).map((error) => error.extensions?.code),
  });

  // docs/clients.md's table, row by row: [row, the status under application/graphql-response+json, under application/json, code, body].
  const rows: Array<[string, number, number, string, string]> = [
    ['parse error', 400, 200, 'GRAPHQL_PARSE_FAILED', JSON.stringify({ query: '{' })],
    ['validation error', 400, 200, 'GRAPHQL_VALIDATION_FAILED', JSON.stringify({ query: '{ nope }' })],
    ['variable coercion', 400, 200, 'BAD_USER_INPUT', JSON.stringify({ query: 'query ($b: Boolean!) { hello @include(if: $b) }', variables: { b: 'x' } })],
    ['a limit', 400, 200, 'TOO_MANY_ALIASES', JSON.stringify({ query: '{ a: hello b: hello c: hello d: hello }' })],
    ['a batch over MAX_BATCH', 400, 200, 'BATCH_TOO_LARGE', JSON.stringify([{ query: '{ hello }' }, { query: '{ hello }' }, { query: '{ hello }' }])],
    ['body not JSON', 400, 400, 'BAD_REQUEST', '{"query": '],
    ['no query', 400, 400, 'BAD_REQUEST', JSON.stringify({ variables: {} })],
    ['body over MAX_BODY_BYTES', 413, 413, 'PAYLOAD_TOO_LARGE', JSON.stringify({ query: `{ hello } # ${'x'.repeat(4096)}` })],
  ];

  it.each(rows)('%s: %i under graphql-response+json, %i under application/json (%s), in the type asked for', async (_row, strict, legacy, code, body) => {
    expect(await answer(await post(gateway.url, body, { accept: GRAPHQL_RESPONSE }))).toEqual({ status: strict, type: `${GRAPHQL_RESPONSE}; charset=utf-8`, codes: [code] });
    expect(await answer(await post(gateway.url, body, { accept: JSON_TYPE }))).toEqual({ status: legacy, type: `${JSON_TYPE}; charset=utf-8`, codes: [code] });
    // No Accept is a legacy client (fetch sends */*; node's http sends none).
    expect((await post(gateway.url, body, {})).status).toBe(legacy);
  });

  it('a query that ran is 200 under both types, with data', async () => {
    for (const accept of [GRAPHQL_RESPONSE, JSON_TYPE, `${JSON_TYPE}; charset=utf-8`, '*/*']) {
      const response = await post(gateway.url, JSON.stringify({ query: '{ hello }' }), { accept });
      expect([response.status, await response.json()]).toEqual([200, { data: { hello: 'hi' } }]);
    }
  });

  it.each([
    ['the gateway', () => gateway.url],
    ['a kit subgraph', () => subgraph.url],
  ])('%s: an Accept that admits neither JSON type is 406, a non-JSON POST or charset 415, both before anything runs', async (_name, url) => {
    const query = JSON.stringify({ query: 'mutation { bump }' });
    expect(await answer(await post(url(), query, { accept: 'text/html' }))).toMatchObject({ status: 406, codes: ['NOT_ACCEPTABLE'] });
    expect(await answer(await post(url(), query, { accept: `${JSON_TYPE}; charset=latin1` }))).toMatchObject({ status: 406, codes: ['NOT_ACCEPTABLE'] });
    const form = await post(url(), 'query=mutation%20%7B%20bump%20%7D', { 'content-type': 'application/x-www-form-urlencoded', accept: GRAPHQL_RESPONSE });
    expect(form.headers.get('accept-post')).toBe(JSON_TYPE);
    expect(await answer(form)).toEqual({ status: 415, type: `${GRAPHQL_RESPONSE}; charset=utf-8`, codes: ['UNSUPPORTED_MEDIA_TYPE'] });
    expect(await answer(await post(url(), query, { 'content-type': 'text/plain' }))).toMatchObject({ status: 415, codes: ['UNSUPPORTED_MEDIA_TYPE'] });
    expect(await answer(await post(url(), query, { 'content-type': `${JSON_TYPE}; charset=latin1` }))).toMatchObject({ status: 415, codes: ['UNSUPPORTED_MEDIA_TYPE'] });
    // multipart/mixed alone too where incremental delivery is not offered (a kit subgraph): it would run the mutation, then refuse.
    if (url() === subgraph.url) expect(await answer(await post(url(), query, { accept: 'multipart/mixed;deferSpec=20220824' }))).toMatchObject({ status: 406, codes: ['NOT_ACCEPTABLE'] });
  });

  it('the gateway answers a client that admits only incremental delivery with one part, as Apollo Router does', async () => {
    const response = await post(gateway.url, JSON.stringify({ query: 'mutation { bump }' }), { accept: 'multipart/mixed;deferSpec=20220824' });
    expect(response.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";deferSpec=20220824');
    expect(await allMultipartParts(response)).toEqual([{ data: { bump: 1 }, hasNext: false }]);
  });

  it('a mutation over GET is 405 under both types', async () => {
    for (const accept of [GRAPHQL_RESPONSE, JSON_TYPE]) {
      const response = await fetch(`${gateway.url}?query=${encodeURIComponent('mutation { bump }')}`, { headers: { accept, 'content-type': JSON_TYPE } });
      expect(response.status).toBe(405);
    }
  });

  it('a rate-limit refusal is 429 under both types, in the type asked for', async () => {
    const body = JSON.stringify({ query: '{ hello }' });
    expect((await post(rateLimited.url, body, {})).status).toBe(200);
    expect(await answer(await post(rateLimited.url, body, { accept: GRAPHQL_RESPONSE }))).toEqual({ status: 429, type: `${GRAPHQL_RESPONSE}; charset=utf-8`, codes: ['RATE_LIMITED'] });
    expect(await answer(await post(rateLimited.url, body, { accept: JSON_TYPE }))).toEqual({ status: 429, type: `${JSON_TYPE}; charset=utf-8`, codes: ['RATE_LIMITED'] });
  });
});
