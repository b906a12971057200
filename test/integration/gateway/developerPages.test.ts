/**
 * Which pages the gateway serves to a browser: GraphiQL on the public `/graphql` in development
 * only (never with NODE_ENV=production, where Apollo's CDN landing page stays off too), and the
 * console on the admin listener, whose page and script load without ADMIN_TOKEN while its data
 * needs the token.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startGateway, type InProcessGateway } from '../../support/inProcess';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { typeDefs as usersSdl } from '../../../subgraphs/users';

const ADMIN_TOKEN = 'console-test-token-0123456789';
const asBrowser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('developer pages', () => {
  const started: InProcessGateway[] = [];
  // A served supergraph (static, one subgraph never called): the gateway serves /graphql once it has one.
  let supergraphPath: string;
  beforeAll(() => {
    const composed = composeSupergraph([{ name: 'users', sdl: usersSdl, url: 'http://127.0.0.1:9/graphql' }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-pages-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
  });
  afterAll(async () => {
    for (const gateway of started) await gateway.stop();
  });
  const gateway = async (env: Record<string, string>) => {
    const running = await startGateway({ ADMIN_PORT: '0', SUPERGRAPH_PATH: supergraphPath, ...env });
    started.push(running);
    return running;
  };

  it('serves GraphiQL, bundled, to a browser opening /graphql in development; API calls still reach GraphQL', async () => {
    const { url } = await gateway({});
    const page = await fetch(url, { headers: asBrowser });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<script src="/graphiql/graphiql.js">');
    expect(html).not.toMatch(/https?:\/\//);
    const script = await fetch(new URL('/graphiql/graphiql.js', url));
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    const api = await fetch(url, { headers: { accept: 'application/json' } });
    expect(api.headers.get('content-type')).toMatch(/application\/json/);
  });

  it('serves no GraphiQL and no landing page with NODE_ENV=production', async () => {
    const { url } = await gateway({ NODE_ENV: 'production' });
    const page = await fetch(url, { headers: asBrowser });
    expect(await page.text()).not.toMatch(/graphiql|<html/i);
    expect((await fetch(new URL('/graphiql/graphiql.js', url))).status).toBe(404);
  });

  it('loads the console page and script without ADMIN_TOKEN, and its data only with it', async () => {
    const { server } = await gateway({ ADMIN_TOKEN });
    const admin = server.admin.url;
    const page = await fetch(`${admin}/admin/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="/admin/assets/console.js">');
    expect((await fetch(`${admin}/admin/assets/console.js`)).status).toBe(200);
    expect((await fetch(`${admin}/admin/console.json`)).status).toBe(401);
    expect((await fetch(`${admin}/metrics`)).status).toBe(401);
    const data = await fetch(`${admin}/admin/console.json`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(data.status).toBe(200);
    expect(await data.json()).toMatchObject({
      supergraph: { source: 'file', version: 1 },
      subgraphs: [{ name: 'users', composed: true, breaker: { state: 'closed', transitions: [] } }],
      // No operator token, and no sagas subgraph in this supergraph: one line instead of sagas.
      sagas: { error: expect.stringContaining('CONSOLE_OPERATOR_TOKEN') },
    });
  });
});
