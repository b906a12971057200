import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HttpClient } from '../../../../gateway/datasource/httpClient';

interface Seen {
  method?: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real loopback server; `handle` answers each request, `sockets` are the connections it accepted. */
async function loopback(handle: (request: IncomingMessage, response: ServerResponse, body: string) => void) {
  const seen: Seen[] = [];
  const sockets: Socket[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ method: request.method, headers: request.headers, body });
      handle(request, response, body);
    });
  });
  // No Keep-Alive hint from the server, so the client's own idle timeout decides.
  server.keepAliveTimeout = 0;
  server.on('connection', (socket: Socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const close = async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  };
  return { url, seen, sockets, close };
}

describe('HttpClient', () => {
  const clients: HttpClient[] = [];
  const servers: Array<{ close(): Promise<void> }> = [];
  const client = (options?: ConstructorParameters<typeof HttpClient>[0]) => {
    const created = new HttpClient(options);
    clients.push(created);
    return created;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const s of servers.splice(0)) await s.close();
  });

  it('POSTs the JSON body with JSON content type and accept, plus the caller headers, and answers status and text', async () => {
    const server = await loopback((_request, response) => {
      response.statusCode = 503;
      response.end('{"errors":[]}');
    });
    servers.push(server);
    const answer = await client().postJson(server.url, '{"query":"{ a }"}', { authorization: 'Bearer u1', 'x-correlation-id': 'c-1' }, new AbortController().signal);
    expect(answer).toEqual({ status: 503, text: '{"errors":[]}' });
    expect(server.seen).toHaveLength(1);
    expect(server.seen[0]).toMatchObject({
      method: 'POST',
      body: '{"query":"{ a }"}',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: 'Bearer u1', 'x-correlation-id': 'c-1' },
    });
  });

  it('lets a caller header replace a default one', async () => {
    const server = await loopback((_request, response) => response.end('ok'));
    servers.push(server);
    await client().postJson(server.url, '{}', { accept: 'application/graphql-response+json' }, new AbortController().signal);
    expect(server.seen[0].headers.accept).toBe('application/graphql-response+json');
  });

  it('keeps the connection alive between requests', async () => {
    const server = await loopback((_request, response) => response.end('ok'));
    servers.push(server);
    const http = client();
    for (let i = 0; i < 3; i++) {
      await http.postJson(server.url, '{}', {}, new AbortController().signal);
      // undici hands the socket back to its pool one turn after the body ends.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(server.seen).toHaveLength(3);
    expect(server.sockets).toHaveLength(1);
  });

  it('closes an idle connection after keepAliveMs', async () => {
    const server = await loopback((_request, response) => response.end('ok'));
    servers.push(server);
    const http = client({ keepAliveMs: 20 });
    await http.postJson(server.url, '{}', {}, new AbortController().signal);
    await once(server.sockets[0], 'close');
    await http.postJson(server.url, '{}', {}, new AbortController().signal);
    expect(server.sockets).toHaveLength(2);
  });

  it('opens at most connectionsPerOrigin connections, queueing the rest', async () => {
    const held: ServerResponse[] = [];
    const server = await loopback((_request, response) => {
      held.push(response);
      if (held.length === 1) setImmediate(() => held[0].end('first'));
      else response.end('second');
    });
    servers.push(server);
    const http = client({ connectionsPerOrigin: 1 });
    const answers = await Promise.all([1, 2].map(() => http.postJson(server.url, '{}', {}, new AbortController().signal)));
    expect(answers.map((answer) => answer.text)).toEqual(['first', 'second']);
    expect(server.sockets).toHaveLength(1);
  });

  it('uses a connection per concurrent request by default', async () => {
    const held: ServerResponse[] = [];
    const server = await loopback((_request, response) => {
      held.push(response);
      // Both are in flight at once only when each has its own connection.
      if (held.length === 2) for (const waiting of held) waiting.end('ok');
    });
    servers.push(server);
    const http = client();
    await Promise.all([1, 2].map(() => http.postJson(server.url, '{}', {}, new AbortController().signal)));
    expect(server.sockets).toHaveLength(2);
  });

  it('aborts the request when the signal fires', async () => {
    const server = await loopback(() => undefined);
    servers.push(server);
    const controller = new AbortController();
    const answer = client().postJson(server.url, '{}', {}, controller.signal);
    while (server.seen.length === 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error('deadline'));
    await expect(answer).rejects.toThrow('deadline');
  });

  it('refuses requests once closed', async () => {
    const server = await loopback((_request, response) => response.end('ok'));
    servers.push(server);
    const http = new HttpClient();
    await http.close();
    await expect(http.postJson(server.url, '{}', {}, new AbortController().signal)).rejects.toThrow();
    expect(server.seen).toHaveLength(0);
  });
});
