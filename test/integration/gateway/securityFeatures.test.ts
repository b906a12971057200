/**
 * "Any other security feature (`@policy`) is still refused": a supergraph that links policy
 * `for: SECURITY` is not served, at start or as a change, while `@authenticated`/`@requiresScopes`
 * (which Trellis enforces) are. A gateway must never serve fields whose guard nobody checks.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { eventually, postGraphQL } from '../../support/graphql';
import { startGateway, type InProcessGateway } from '../../support/inProcess';
import { serveOnLoopback, type Loopback } from '../../support/loopback';

const vault = (directive: string) => `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key", "@policy", "@authenticated"])
  type Query { secret: String ${directive} open: String }
`;

describe('security features the gateway cannot enforce', () => {
  let subgraph: Loopback;
  let gateway: InProcessGateway | undefined;
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-policy-')), 'supergraph.graphql');
  const write = (directive: string) => {
    const composed = composeSupergraph([{ name: 'vault', sdl: vault(directive), url: `${subgraph.url}/graphql` }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    writeFileSync(file, composed.supergraphSdl);
    return composed.supergraphSdl;
  };

  beforeAll(async () => {
    // A subgraph that would hand out the secret to anyone who gets a query through.
    subgraph = await serveOnLoopback((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { secret: 'leaked', open: 'hello' } })));
  });
  afterAll(async () => {
    await gateway?.stop();
    await subgraph.close();
  });

  it('refuses to start on a supergraph linking @policy for SECURITY', async () => {
    expect(write('@policy(policies: [["admin"]])')).toContain('@link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)');
    await expect(startGateway({ SUPERGRAPH_PATH: file })).rejects.toThrow(/policy/);
  });

  it('keeps serving the last good supergraph when a change brings @policy in', async () => {
    expect(write('@authenticated')).toContain('@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)');
    gateway = await startGateway({ SUPERGRAPH_PATH: file });
    expect((await postGraphQL(gateway.url, '{ open }')).body.data).toEqual({ open: 'hello' });
    const admin = () => fetch(`${gateway!.server.admin.url}/admin/supergraph`).then((r) => r.json() as Promise<{ version: number; lastError?: { message: string } }>);
    const before = await admin();

    write('@policy(policies: [["admin"]])');
    await eventually(async () => expect((await admin()).lastError?.message).toMatch(/policy/), 10_000, 100);
    expect((await admin()).version).toBe(before.version);
    // Still the @authenticated schema: the secret needs a token, and nobody got it.
    const anonymous = await postGraphQL(gateway.url, '{ secret open }');
    expect(anonymous.body.data).toEqual({ secret: null, open: 'hello' });
    expect(anonymous.body.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
  });
});
