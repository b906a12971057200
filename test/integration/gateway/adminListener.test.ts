/**
 * The admin listener: `/metrics`, `/admin/supergraph`, `/admin/supergraph.graphql` and health
 * details answer only there (loopback by default, optionally behind ADMIN_TOKEN); the public port
 * keeps `/graphql`, `/health/live` and `/health/ready` and nothing else.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Subgraph } from '@trellis/kit';
import { loadConfig } from '@trellis/kit';
import { catalogSubgraph, typeDefs as catalogTypeDefs } from '../../../subgraphs/catalog';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { postGraphQL } from '../../support/graphql';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';

const ADMIN_ONLY = ['/metrics', '/admin/supergraph', '/admin/supergraph.graphql'];

describe('admin listener', () => {
  let catalog: Subgraph;
  let supergraphPath: string;
  const gateways: InProcessGateway[] = [];
  const gatewayWith = async (env: Record<string, string>) => {
    const gateway = await startGateway({ SUPERGRAPH_PATH: supergraphPath, ...env });
    gateways.push(gateway);
    return gateway;
  };

  beforeAll(async () => {
    catalog = await startSubgraph(catalogSubgraph, {});
    const composed = composeSupergraph([{ name: 'catalog', sdl: catalogTypeDefs, url: catalog.url }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-admin-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
  });

  afterAll(async () => {
    for (const gateway of gateways) await gateway.stop();
    await catalog?.stop();
  });

  it('serves metrics, the supergraph and health details on loopback only, and none of them on the public port', async () => {
    const gateway = await gatewayWith({});
    const publicBase = gateway.url.replace('/graphql', '');
    const admin = gateway.server.admin.url;
    expect(new URL(admin).hostname).toBe('127.0.0.1');
    expect(new URL(admin).port).not.toBe(new URL(publicBase).port);
    expect((await postGraphQL(gateway.url, '{ product(id: "p1") { name } }')).body.data).toEqual({ product: { name: 'Trellis Mug' } });

    for (const route of ADMIN_ONLY) expect([route, (await fetch(publicBase + route)).status]).toEqual([route, 404]);
    expect(await (await fetch(`${publicBase}/health/ready`)).json()).toEqual({ status: 'ready' });
    expect((await fetch(`${publicBase}/health/live`)).status).toBe(200);

    expect(await (await fetch(`${admin}/metrics`)).text()).toContain('trellis_gateway_requests_total');
    const status = (await (await fetch(`${admin}/admin/supergraph`)).json()) as { hash: string; source: string };
    expect(status).toMatchObject({ source: 'file', hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(await (await fetch(`${admin}/admin/supergraph.graphql`)).text()).toContain('join__Graph');
    expect(await (await fetch(`${admin}/health/ready`)).json()).toEqual({ status: 'ready', supergraph: status.hash });
  });

  it('with ADMIN_TOKEN, every admin route needs it', async () => {
    const token = 'a-long-admin-token-0123456789';
    const gateway = await gatewayWith({ ADMIN_TOKEN: token });
    const admin = gateway.server.admin.url;
    for (const route of [...ADMIN_ONLY, '/health/ready']) {
      expect([route, (await fetch(admin + route)).status]).toEqual([route, 401]);
      expect([route, (await fetch(admin + route, { headers: { authorization: `Bearer ${token}x` } })).status]).toEqual([route, 401]);
      expect([route, (await fetch(admin + route, { headers: { authorization: `Bearer ${token}` } })).status]).toEqual([route, 200]);
    }
  });

  it('refuses a bad ADMIN_PORT or a short ADMIN_TOKEN at start, naming the variable', () => {
    expect(() => loadConfig({ ADMIN_PORT: 'x' })).toThrow(/ADMIN_PORT/);
    expect(() => loadConfig({ ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN/);
  });
});
