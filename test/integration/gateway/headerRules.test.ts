/**
 * HEADER_RULES end to end: two subgraphs behind a gateway each receive exactly the headers their
 * rules select from the caller's request (propagated, renamed, defaulted, removed, inserted), plus
 * the correlation id and what HTTP itself needs; nothing else the caller sent.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { startGateway, type InProcessGateway } from '../../support/inProcess';
import { startTestIdentity, type TestIdentity } from '../../support/identity';
import { postGraphQL } from '../../support/graphql';

/** What the gateway's HTTP client sends on every call, whatever the rules. */
const TRANSPORT = ['accept', 'connection', 'content-length', 'content-type', 'host'];

const sdlOf = (field: string) => `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@shareable"])
  type Query { ${field}: String }
`;

/** A subgraph that answers its one field and records the headers of every request. */
async function recordingSubgraph(field: string): Promise<{ server: Server; url: string; requests: IncomingHttpHeaders[] }> {
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    requests.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { [field]: `from ${field}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/graphql`, requests };
}

const ruled = (headers: IncomingHttpHeaders) => Object.fromEntries(Object.entries(headers).filter(([name]) => !TRANSPORT.includes(name)));

describe('per-subgraph header rules', () => {
  let identity: TestIdentity;
  let alpha: Awaited<ReturnType<typeof recordingSubgraph>>;
  let beta: Awaited<ReturnType<typeof recordingSubgraph>>;
  let gateway: InProcessGateway;

  beforeAll(async () => {
    identity = await startTestIdentity();
    alpha = await recordingSubgraph('alpha');
    beta = await recordingSubgraph('beta');
    const composed = composeSupergraph([
      { name: 'alpha', sdl: sdlOf('alpha'), url: alpha.url },
      { name: 'beta', sdl: sdlOf('beta'), url: beta.url },
    ]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-headers-')), 'supergraph.graphql');
    writeFileSync(file, composed.supergraphSdl);
    const rules = {
      all: { request: [{ propagate: { named: 'traceparent' } }, { propagate: { named: 'authorization' } }, { propagate: { named: 'x-tenant', rename: 'x-org', default: 'none' } }] },
      subgraphs: { beta: { request: [{ remove: { named: 'authorization' } }, { insert: { name: 'x-gateway', value: 'trellis' } }, { propagate: { named: 'idempotency-key' } }] } },
    };
    gateway = await startGateway({ SUPERGRAPH_PATH: file, HEADER_RULES: JSON.stringify(rules), SUBGRAPH_ALLOW: 'alpha,beta', ...identity.env });
  });

  afterAll(async () => {
    await gateway?.stop();
    for (const subgraph of [alpha, beta]) await new Promise((resolve) => subgraph?.server.close(resolve));
    await identity?.stop();
  });

  it('sends each subgraph exactly the headers its rules select', async () => {
    const { authorization } = await identity.bearer('u1');
    const trace = '0af7651916cd43dd8448eb211c80319c';
    const response = await postGraphQL(gateway.url, '{ alpha beta }', {
      headers: {
        authorization,
        traceparent: `00-${trace}-b7ad6b7169203331-01`,
        tracestate: 'vendor=1',
        'idempotency-key': 'k-1',
        'x-tenant': 'acme',
        cookie: 'session=secret',
        'x-correlation-id': 'corr-42',
      },
    });
    expect(response.body).toEqual({ data: { alpha: 'from alpha', beta: 'from beta' } });
    expect(alpha.requests).toHaveLength(1);
    expect(beta.requests).toHaveLength(1);

    // Tracing is off in this process: the caller's traceparent passes as its rule says (observability.test.ts covers tracing on).
    const childOfCaller = `00-${trace}-b7ad6b7169203331-01`;
    expect(ruled(alpha.requests[0])).toEqual({ traceparent: childOfCaller, authorization, 'x-org': 'acme', 'x-correlation-id': 'corr-42' });
    expect(ruled(beta.requests[0])).toEqual({ traceparent: childOfCaller, 'x-org': 'acme', 'x-gateway': 'trellis', 'idempotency-key': 'k-1', 'x-correlation-id': 'corr-42' });
  });

  it('sends the default of a propagated header the caller did not send, and no token when the caller sent none', async () => {
    alpha.requests.length = 0;
    beta.requests.length = 0;
    expect((await postGraphQL(gateway.url, '{ alpha beta }')).body.errors).toBeUndefined();
    // Tracing is off in this process, so no traceparent is made up for a caller that sent none.
    expect(Object.keys(ruled(alpha.requests[0])).sort()).toEqual(['x-correlation-id', 'x-org']);
    expect(alpha.requests[0]['x-org']).toBe('none');
    expect(Object.keys(ruled(beta.requests[0])).sort()).toEqual(['x-correlation-id', 'x-gateway', 'x-org']);
  });
});
