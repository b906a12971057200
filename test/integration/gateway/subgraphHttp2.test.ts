/**
 * SUBGRAPH_HTTP2: the gateway's subgraph pool speaks HTTP/2 to a subgraph served over TLS that
 * offers it (ALPN), many calls on one connection, and stays on HTTP/1.1 otherwise: off by
 * default, and always for cleartext subgraphs.
 */
import { execFileSync } from 'node:child_process';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { HttpClient } from '../../../gateway/datasource';
import { loadConfig } from '@trellis/kit';

function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-h2-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

/** Answers each POST with the HTTP version it came over and the connection it came on. */
function answerVersion(connections: WeakMap<object, number>) {
  let next = 0;
  return (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
    // One HTTP/2 session is one connection (its streams' sockets are per-stream proxies).
    const socket = ('stream' in req ? req.stream.session : req.socket) as object;
    if (!connections.has(socket)) connections.set(socket, ++next);
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ version: req.httpVersion, connection: connections.get(socket), echo: JSON.parse(body) as unknown }));
    });
  };
}

describe('HTTP/2 to subgraphs', () => {
  const { key, cert } = selfSignedCertificate();
  const tls = createSecureServer({ key, cert, allowHTTP1: true }, answerVersion(new WeakMap()));
  const plain = createHttpServer(answerVersion(new WeakMap()));
  let tlsUrl: string;
  let plainUrl: string;
  const clients: HttpClient[] = [];
  const client = (options: ConstructorParameters<typeof HttpClient>[0]) => {
    const created = new HttpClient(options);
    clients.push(created);
    return created;
  };

  beforeAll(async () => {
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    tlsUrl = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/graphql`;
    plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    for (const created of clients) await created.close();
    await new Promise((resolve) => tls.close(resolve));
    await new Promise((resolve) => plain.close(resolve));
  });

  const call = async (http: HttpClient, url: string, n: number) => {
    const response = await http.postJson(url, JSON.stringify({ n }), {}, AbortSignal.timeout(5000));
    expect(response.status).toBe(200);
    return JSON.parse(response.text) as { version: string; connection: number; echo: { n: number } };
  };

  it('is off by default', () => {
    expect(loadConfig({}).gateway.subgraphHttp2).toBe(false);
    expect(loadConfig({ SUBGRAPH_HTTP2: 'true' }).gateway.subgraphHttp2).toBe(true);
    expect(() => loadConfig({ SUBGRAPH_HTTP2: 'yes' })).toThrow(/SUBGRAPH_HTTP2/);
  });

  it('multiplexes concurrent calls on one HTTP/2 connection to a TLS subgraph that offers h2', async () => {
    const http = client({ allowH2: true, ca: cert });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => call(http, tlsUrl, n)));
    expect(answers.map((answer) => answer.echo.n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(new Set(answers.map((answer) => answer.version))).toEqual(new Set(['2.0']));
    expect(new Set(answers.map((answer) => answer.connection)).size).toBe(1);
  });

  it('stays on HTTP/1.1 without SUBGRAPH_HTTP2, and to a cleartext subgraph with it', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, (_, n) => call(client({ ca: cert }), tlsUrl, n)));
    expect(new Set(answers.map((answer) => answer.version))).toEqual(new Set(['1.1']));
    expect((await call(client({ allowH2: true }), plainUrl, 1)).version).toBe('1.1');
  });
});
