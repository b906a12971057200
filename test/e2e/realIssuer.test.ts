/**
 * clients.md's `AUTH_ISSUER=https://login.example.com/ AUTH_AUDIENCE=trellis-api npm start`: the
 * platform `npm start` runs, pointed at an issuer of its own (here one on loopback standing in for
 * login.example.com, with that audience). Its tokens are accepted end to end, a token for another
 * audience is refused, and the dev identity provider does not start.
 */
import { DevIdentityProvider } from '@trellis/kit/internal/auth';
import { createLogger } from '@trellis/kit';
import { startPlatform, type RunningPlatform } from '../support/platform';
import { postGraphQL } from '../support/graphql';
import { freePort } from '../support/ports';

describe('npm start with a real issuer (AUTH_ISSUER, AUTH_AUDIENCE)', () => {
  let issuer: DevIdentityProvider;
  let platform: RunningPlatform;

  beforeAll(async () => {
    const port = await freePort();
    issuer = new DevIdentityProvider({ issuer: `http://127.0.0.1:${port}`, audience: 'trellis-api', logger: createLogger({ service: 'issuer', level: 'silent' }) });
    await issuer.start(port);
    platform = await startPlatform({ env: { AUTH_ISSUER: `http://127.0.0.1:${port}`, AUTH_AUDIENCE: 'trellis-api' } });
  }, 150_000);

  afterAll(async () => {
    expect(await platform?.stop()).toBe(0);
    await issuer?.stop();
  });

  it("accepts the issuer's tokens through the gateway and the subgraphs", async () => {
    const { body } = await postGraphQL(platform.gatewayUrl, '{ me { id name } }', { headers: { authorization: `Bearer ${await issuer.mint('u2')}` } });
    expect(body).toEqual({ data: { me: { id: 'u2', name: 'Grace Hopper' } } });
  });

  it('refuses a token of that issuer for another audience', async () => {
    const token = await issuer.mint('u2', [], 600, { audience: 'trellis' });
    const { status, body } = await postGraphQL(platform.gatewayUrl, '{ me { id } }', { headers: { authorization: `Bearer ${token}` } });
    expect(status).toBe(401);
    expect(body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('does not start the dev identity provider', async () => {
    await expect(fetch(`http://127.0.0.1:${platform.base + 400}/.well-known/jwks.json`)).rejects.toThrow();
  });
});
