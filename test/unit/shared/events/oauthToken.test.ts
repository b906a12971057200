/**
 * OAUTHBEARER tokens from a client-credentials grant (shared/events/kafka/oauthToken.ts), against
 * a real HTTP token endpoint on loopback: what is sent, how long a token is kept, what a refusal says.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientCredentialsToken, TokenRefusedError } from '@trellis/kit/internal/events/kafka/oauthToken';
import { BackendUnavailableError } from '@trellis/kit/internal/errors';

interface Seen {
  authorization?: string;
  contentType?: string;
  body: string;
}

describe('clientCredentialsToken', () => {
  let server: http.Server;
  let url: string;
  const seen: Seen[] = [];
  let answer: { status: number; json: unknown } = { status: 200, json: {} };
  let issued = 0;

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        seen.push({ authorization: request.headers.authorization, contentType: request.headers['content-type'], body });
        issued += 1;
        const json = typeof answer.json === 'function' ? (answer.json as (n: number) => unknown)(issued) : answer.json;
        response.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/token`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    seen.length = 0;
    issued = 0;
  });

  it('asks with the client credentials in HTTP Basic, grant_type=client_credentials and the scope', async () => {
    answer = { status: 200, json: { access_token: 'tok-1', token_type: 'Bearer', expires_in: 3600 } };
    const token = clientCredentialsToken({ tokenUrl: url, clientId: 'trellis client', clientSecret: 's:cret', scope: 'kafka.write' });
    await expect(token()).resolves.toBe('tok-1');
    expect(seen).toHaveLength(1);
    expect(seen[0].authorization).toBe(`Basic ${Buffer.from('trellis%20client:s%3Acret').toString('base64')}`);
    expect(seen[0].contentType).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(seen[0].body))).toEqual({ grant_type: 'client_credentials', scope: 'kafka.write' });
  });

  it('keeps a token until a minute before it expires, then asks again; callers at once share one request', async () => {
    answer = { status: 200, json: (n: number) => ({ access_token: `tok-${n}`, expires_in: 600 }) } as never;
    let now = 1_000_000;
    const token = clientCredentialsToken({ tokenUrl: url, clientId: 'c', clientSecret: 's', now: () => now });
    expect(await Promise.all([token(), token(), token()])).toEqual(['tok-1', 'tok-1', 'tok-1']);
    now += 539_000;
    await expect(token()).resolves.toBe('tok-1');
    now += 1_000;
    await expect(token()).resolves.toBe('tok-2');
    expect(seen).toHaveLength(2);
    expect(Object.fromEntries(new URLSearchParams(seen[0].body))).toEqual({ grant_type: 'client_credentials' });
  });

  it.each<[string, { status: number; json: unknown }, string, boolean]>([
    ['a refused client (4xx), not to be retried', { status: 401, json: { error: 'invalid_client', error_description: 'bad secret' } }, 'invalid_client: bad secret', false],
    ['an endpoint down (5xx without a body), retriable', { status: 503, json: null }, 'HTTP 503', true],
    ['an answer without access_token, retriable', { status: 200, json: { token_type: 'Bearer' } }, 'answered without an access_token', true],
  ])('fails on %s with BACKEND_UNAVAILABLE naming the endpoint', async (_case, reply, reason, retriable) => {
    answer = reply;
    const token = clientCredentialsToken({ tokenUrl: url, clientId: 'c', clientSecret: 's' });
    const error = await token().catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(retriable ? BackendUnavailableError : TokenRefusedError);
    expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retriable });
    expect((error as Error).message).toContain(`kafka: cannot get an OAUTHBEARER token from ${url}`);
    expect((error as Error).message).toContain(reason);
  });

  it('fails, not hangs, when the endpoint does not answer in time', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const token = clientCredentialsToken({ tokenUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/token`, clientId: 'c', clientSecret: 's', timeoutMs: 200 });
    await expect(token()).rejects.toThrow(BackendUnavailableError);
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });
});
