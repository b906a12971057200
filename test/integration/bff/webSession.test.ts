/**
 * The web session cookie as a browser gets it: `Secure` in production (not in development), and a
 * session that lives no longer than the token it stands for, whatever BFF_SESSION_TTL_MS allows.
 */
import { loadConfig, type Env } from '@trellis/kit/internal/config';
import { createLogger } from '@trellis/kit';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { createWebBff } from '../../../bff/web/app';
import type { BffServer } from '../../../bff/shared';
import { eventually } from '../../support/graphql';
import { getJson, sendJson } from '../../support/bff';
import { startTestIdentity, type TestIdentity } from '../../support/identity';

describe('web session cookie', () => {
  let identity: TestIdentity;
  const bffs: BffServer[] = [];
  const startWeb = async (env: Env) => {
    const bff = createWebBff({ config: loadConfig({ ...identity.env, LOG_LEVEL: 'silent', ...env }), logger: createLogger({ service: 'web-bff', level: 'silent' }), state: new InMemoryStateStore() });
    bffs.push(bff);
    return bff.start(0);
  };
  const open = async (url: string, token: string) => {
    const response = await sendJson('POST', `${url}/api/session`, { token });
    expect(response.status).toBe(201);
    return { setCookie: response.headers.get('set-cookie')!, expiresInSec: response.body.expiresInSec as number };
  };

  beforeAll(async () => {
    identity = await startTestIdentity();
  });
  afterAll(async () => {
    for (const bff of bffs) await bff.stop();
    await identity.stop();
  });

  it('marks the cookie Secure in production, on sign-in and sign-out, and not in development', async () => {
    const production = await startWeb({ NODE_ENV: 'production' });
    const signedIn = await open(production, await identity.token('u1'));
    expect(signedIn.setCookie).toMatch(/^trellis_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    const signedOut = await fetch(`${production}/api/session`, { method: 'DELETE', headers: { cookie: signedIn.setCookie.split(';')[0] } });
    expect(signedOut.headers.get('set-cookie')).toBe('trellis_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure');

    const development = await startWeb({ NODE_ENV: 'development' });
    expect((await open(development, await identity.token('u1'))).setCookie).not.toContain('Secure');
  });

  it("caps the session at the token's exp: Max-Age follows the token, and the session ends when the token does", async () => {
    const url = await startWeb({ BFF_SESSION_TTL_MS: String(8 * 3600_000) });
    const longToken = await open(url, await identity.token('u1', [], 600));
    expect(longToken.expiresInSec).toBeLessThanOrEqual(600);
    expect(longToken.expiresInSec).toBeGreaterThan(590);
    expect(longToken.setCookie).toMatch(new RegExp(`Max-Age=${longToken.expiresInSec}$`));

    const shortToken = await open(url, await identity.token('u2', [], 2));
    expect(shortToken.expiresInSec).toBeLessThanOrEqual(2);
    const cookie = shortToken.setCookie.split(';')[0];
    expect((await getJson(`${url}/api/session`, { cookie })).body.user).toMatchObject({ id: 'u2' });
    // Gone once the token expires, though BFF_SESSION_TTL_MS would allow 8 hours.
    await eventually(async () => expect((await getJson(`${url}/api/session`, { cookie })).body.user).toBeNull(), 5000, 100);
    expect((await getJson(`${url}/api/pages/orders`, { cookie })).status).toBe(401);
  });

  it('caps the session at BFF_SESSION_TTL_MS when that is shorter than the token', async () => {
    const url = await startWeb({ BFF_SESSION_TTL_MS: '60000' });
    const session = await open(url, await identity.token('u1', [], 3600));
    expect(session.expiresInSec).toBe(60);
    expect(session.setCookie).toMatch(/Max-Age=60$/);
  });
});
