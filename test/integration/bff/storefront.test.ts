/**
 * The storefront's server side on a real web BFF: the page and its bundle under a strict content
 * security policy, revalidated by ETag; the dev sign-in through a real dev identity provider, and
 * off in production and when the issuer mints no dev tokens.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@trellis/kit';
import { createLogger } from '@trellis/kit';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { createWebBff } from '../../../bff/web/app';
import type { BffServer } from '../../../bff/shared';
import { getJson, sendJson } from '../../support/bff';
import { startTestIdentity, type TestIdentity } from '../../support/identity';

describe('storefront on the web BFF', () => {
  let identity: TestIdentity;
  const bffs: BffServer[] = [];
  let notAnIssuer: Server;

  const startBff = async (env: Record<string, string>) => {
    const config = loadConfig({ LOG_LEVEL: 'silent', GATEWAY_URL: 'http://127.0.0.1:9/graphql', ...env });
    const bff = createWebBff({ config, logger: createLogger({ service: 'web-bff', level: 'silent' }), state: new InMemoryStateStore() });
    bffs.push(bff);
    return bff.start(0);
  };

  beforeAll(async () => {
    identity = await startTestIdentity();
    notAnIssuer = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => notAnIssuer.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const bff of bffs) await bff.stop();
    await identity.stop();
    notAnIssuer.close();
  });

  it('serves the page, script and stylesheet under a same-origin-only CSP, and answers 304 to a matching ETag', async () => {
    const web = await startBff(identity.env);
    const page = await fetch(`${web}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp.split('; ')).toEqual(expect.arrayContaining(["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]));
    expect(csp).not.toContain('unsafe');
    for (const [file, type] of [
      ['storefront.js', 'text/javascript; charset=utf-8'],
      ['storefront.css', 'text/css; charset=utf-8'],
    ]) {
      const asset = await fetch(`${web}/assets/${file}`);
      expect([asset.status, asset.headers.get('content-type'), asset.headers.get('x-content-type-options')]).toEqual([200, type, 'nosniff']);
      expect((await asset.text()).length).toBeGreaterThan(500);
      const again = await fetch(`${web}/assets/${file}`, { headers: { 'if-none-match': asset.headers.get('etag')! } });
      expect(again.status).toBe(304);
    }
    const unknown = await getJson(`${web}/assets/other.js`);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('signs a dev user in through the dev identity provider: a session for that user with the storefront scopes', async () => {
    const web = await startBff(identity.env);
    const response = await sendJson('POST', `${web}/api/session/dev`, { userId: 'u2' });
    expect(response.status).toBe(201);
    expect(response.body.user).toEqual({ id: 'u2', scopes: ['payments:read', 'users:email'] });
    const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0];
    expect(cookie).toMatch(/^trellis_session=[\w-]{43}$/);
    expect((await getJson(`${web}/api/session`, { cookie })).body.user.id).toBe('u2');
    const bad = await sendJson('POST', `${web}/api/session/dev`, { userId: 'u2; drop' });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'BAD_REQUEST']);
  });

  it('has no dev sign-in in production', async () => {
    const web = await startBff({ ...identity.env, NODE_ENV: 'production' });
    const response = await sendJson('POST', `${web}/api/session/dev`, { userId: 'u1' });
    expect([response.status, response.body.error.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('says so when the issuer is not a dev identity provider', async () => {
    const issuer = `http://127.0.0.1:${(notAnIssuer.address() as AddressInfo).port}`;
    const web = await startBff({ AUTH_ISSUER: issuer });
    const response = await sendJson('POST', `${web}/api/session/dev`, { userId: 'u1' });
    expect(response.status).toBe(503);
    expect(response.body.error).toMatchObject({ code: 'IDENTITY_UNAVAILABLE', message: `the identity provider at ${issuer} mints no dev tokens (POST /token answered 404)` });
  });
});
