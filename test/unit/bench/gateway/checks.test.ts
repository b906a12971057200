import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkPrivateStaysPrivate, checkTokenReachesVerifier, type Callers } from '../../../bench/gateway/checks';
import { buildDataset } from '../../../bench/gateway/dataset';
import { realisticWorkloads, type Call } from '../../../bench/gateway/operations';

const data = buildDataset();
const account = realisticWorkloads(data).find((workload) => workload.name === 'user+orders')!;
const callers: Callers = { authorization: (call: Call) => `Bearer ${call.user.id}`, forged: { authorization: 'Bearer u1 forged' }, genuine: { authorization: 'Bearer u1' } };
const product = realisticWorkloads(data).find((workload) => workload.name === 'product')!;

/**
 * A gateway answering `Account` for the caller's own id only (FORBIDDEN otherwise), in front of a
 * response cache keyed by `keyOf` (the request body alone, or the body and the caller).
 */
function gateway(keyOf: (body: string, caller: string) => string): Server {
  const cache = new Map<string, string>();
  return createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const caller = (req.headers.authorization ?? '').replace('Bearer ', '');
      const key = keyOf(body, caller);
      let answer = cache.get(key);
      if (!answer) {
        const { id } = (JSON.parse(body) as { variables: { id: string } }).variables;
        const call = account.calls.find((candidate) => candidate.user.id === id && !candidate.expected.propagate.partial)!;
        answer = id === caller ? `{"data":${call.expected.propagate.data}}` : '{"data":{"user":null},"errors":[{"message":"forbidden","extensions":{"code":"FORBIDDEN"}}]}';
        if (id === caller) cache.set(key, answer);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
    });
  });
}

const listen = (server: Server) => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`)));

describe('the check that a private answer stays with its caller', () => {
  let server: Server;
  afterEach(() => new Promise((resolve) => server.close(resolve)));

  it('refuses a target whose cache serves one caller the answer it kept for another', async () => {
    server = gateway((body) => body);
    await expect(checkPrivateStaysPrivate(await listen(server), account, callers)).rejects.toThrow(/got their data/);
  });

  it('passes a target that keeps answers per caller', async () => {
    server = gateway((body, caller) => `${caller} ${body}`);
    await expect(checkPrivateStaysPrivate(await listen(server), account, callers)).resolves.toBeUndefined();
  });
});

/**
 * A gateway whose response cache, keyed by the body and the token's subject, answers before the
 * token is verified when `verifyFirst` is false (a forged token is one with a bad signature: " forged").
 */
function verifyingGateway(verifyFirst: boolean): Server {
  const cache = new Map<string, string>();
  return createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const token = (req.headers.authorization ?? '').replace('Bearer ', '');
      const key = `${token.split(' ')[0]} ${body}`;
      const refuse = () => res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"message":"Unauthenticated"}]}');
      if (verifyFirst && token.endsWith(' forged')) return refuse();
      const hit = cache.get(key);
      if (hit) return res.writeHead(200, { 'content-type': 'application/json' }).end(hit);
      if (token.endsWith(' forged')) return refuse();
      const answer = `{"data":${product.calls[0].expected.propagate.data}}`;
      cache.set(key, answer);
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
    });
  });
}

describe('the check that the token reaches a verifier', () => {
  let server: Server;
  afterEach(() => new Promise((resolve) => server.close(resolve)));

  it('refuses a target whose cache answers a forged token before verifying it', async () => {
    server = verifyingGateway(false);
    await expect(checkTokenReachesVerifier(await listen(server), product, callers)).rejects.toThrow(/forged token gets a clean answer/);
  });

  it('passes a target that verifies every token, hit or miss', async () => {
    server = verifyingGateway(true);
    await expect(checkTokenReachesVerifier(await listen(server), product, callers)).resolves.toBeUndefined();
  });
});
