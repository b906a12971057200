/**
 * The gateway's upstream subscriptions against a real graphql-ws server that reads headers the way
 * the kit does (operationHeaders): one connection per caller identity, shared by that caller's
 * subscriptions, each operation with its own correlation id; other callers never share it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { buildSchema } from 'graphql';
import { UpstreamConnections } from '../../../../gateway/subscriptions/upstream';
import { operationHeaders } from '@trellis/kit/internal/subgraph/context';
import type { ServiceInstance } from '@trellis/kit';
import { eventually } from '../../../support/graphql';

const schema = buildSchema('type Query { ok: Boolean } type Subscription { seen(times: Int!): String! tick: String! }');

/** A loopback server speaking graphql-transport-ws by hand, for peers graphql-ws's own server never is. */
async function rawPeer(onMessage: (socket: WebSocket, message: { type: string }) => void): Promise<{ url: string; onConnection(listener: () => void): void; close(): Promise<void> }> {
  const server = createServer();
  const wss = new WebSocketServer({ server, path: '/graphql' });
  wss.on('connection', (socket) => socket.on('message', (data) => onMessage(socket, JSON.parse(String(data)) as { type: string })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    onConnection: (listener) => void wss.once('connection', listener),
    close: async () => {
      for (const socket of wss.clients) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A graphql-ws server whose `tick` says which server sent it, every 20 ms, until it is closed. */
async function tickServer(name: string): Promise<{ instance: ServiceInstance; close(): Promise<void> }> {
  const server = createServer();
  const wss = new WebSocketServer({ server, path: '/graphql' });
  useServer(
    {
      schema,
      roots: {
        subscription: {
          tick: async function* () {
            for (let n = 1; ; n += 1) {
              yield { tick: `${name} ${n}` };
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          },
        },
      },
    },
    wss,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return {
    instance: { id: name, name: 'ticks', url, meta: {}, healthy: true },
    close: async () => {
      for (const socket of wss.clients) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => new Promise<void>((done) => server.close(() => done())).then(resolve));
    },
  };
}

describe('UpstreamConnections', () => {
  let server: Server;
  let wss: WebSocketServer;
  let instance: ServiceInstance;
  let opened = 0;
  let closed = 0;
  const pools: UpstreamConnections[] = [];

  beforeAll(async () => {
    server = createServer();
    wss = new WebSocketServer({ server, path: '/graphql' });
    useServer(
      {
        schema,
        roots: {
          subscription: {
            // Says who asked and with which correlation id, `times` times.
            seen: async function* (args: { times: number }, context: { header: (name: string) => string | undefined }) {
              for (let i = 0; i < args.times; i++) yield { seen: `${context.header('authorization') ?? 'anonymous'} ${context.header('x-correlation-id')}` };
            },
          },
        },
        onConnect: () => void (opened += 1),
        onClose: () => void (closed += 1),
        context: (ctx, _id, payload) => ({ header: operationHeaders(ctx.connectionParams, payload.extensions) }),
      },
      wss,
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    instance = { id: 'echo-1', name: 'echo', url, meta: {}, healthy: true };
  });
  afterEach(async () => {
    for (const pool of pools.splice(0)) await pool.close();
    await eventually(async () => expect(closed).toBe(opened));
    opened = closed = 0;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const pool = (settings = {}) => {
    const created = new UpstreamConnections(settings);
    pools.push(created);
    return created;
  };
  const collect = async (connections: UpstreamConnections, headers: Record<string, string>, times = 2, instances = () => [instance]) => {
    const results = [];
    for await (const result of connections.subscribe({ subgraph: 'echo', instances, query: 'subscription($n: Int!) { seen(times: $n) }', variables: { n: times }, headers })) results.push(result);
    return results;
  };

  it("shares one connection among a caller's subscriptions, each with its own correlation id", async () => {
    const connections = pool();
    const caller = { authorization: 'Bearer u1' };
    const [a, b] = await Promise.all([
      collect(connections, { ...caller, 'x-correlation-id': 'c-a' }),
      collect(connections, { ...caller, 'x-correlation-id': 'c-b' }),
    ]);
    expect(a).toEqual([{ data: { seen: 'Bearer u1 c-a' } }, { data: { seen: 'Bearer u1 c-a' } }]);
    expect(b).toEqual([{ data: { seen: 'Bearer u1 c-b' } }, { data: { seen: 'Bearer u1 c-b' } }]);
    // The caller's next subscription, after those ended, still finds the connection open.
    expect(await collect(connections, { ...caller, 'x-correlation-id': 'c-c' }, 1)).toEqual([{ data: { seen: 'Bearer u1 c-c' } }]);
    expect(opened).toBe(1);
    expect(connections.size).toBe(1);
  });

  it('never lets two callers share a connection: each subscription runs as its own caller', async () => {
    const connections = pool();
    const [u1, u2, anonymous] = await Promise.all([
      collect(connections, { authorization: 'Bearer u1', 'x-correlation-id': 'c1' }, 1),
      collect(connections, { authorization: 'Bearer u2', 'x-correlation-id': 'c2' }, 1),
      collect(connections, { 'x-correlation-id': 'c3' }, 1),
    ]);
    expect([u1, u2, anonymous]).toEqual([[{ data: { seen: 'Bearer u1 c1' } }], [{ data: { seen: 'Bearer u2 c2' } }], [{ data: { seen: 'anonymous c3' } }]]);
    expect(opened).toBe(3);
  });

  it('closes an idle connection by itself once its last subscription ended', async () => {
    const connections = pool({ idleCloseMs: 50 });
    await collect(connections, { authorization: 'Bearer u1' }, 1);
    expect(opened).toBe(1);
    await eventually(async () => expect(closed).toBe(1));
    // The next subscription opens a new one.
    expect(await collect(connections, { authorization: 'Bearer u1', 'x-correlation-id': 'again' }, 1)).toEqual([{ data: { seen: 'Bearer u1 again' } }]);
    expect(opened).toBe(2);
  });

  it('keeps at most maxConnections, closing the least recently used one once it is idle', async () => {
    const connections = pool({ maxConnections: 1 });
    await collect(connections, { authorization: 'Bearer u1' }, 1);
    await collect(connections, { authorization: 'Bearer u2' }, 1);
    expect(connections.size).toBe(1);
    await eventually(async () => expect(closed).toBe(1));
    expect(opened).toBe(2);
  });

  it('answers SUBGRAPH_UNAVAILABLE at once when the subgraph has no healthy instance, opening nothing', async () => {
    const results = await collect(pool(), { authorization: 'Bearer u1' }, 1, () => []);
    expect(results).toEqual([{ errors: [expect.objectContaining({ message: expect.stringContaining('no healthy instance of echo'), extensions: expect.objectContaining({ code: 'SUBGRAPH_UNAVAILABLE' }) })] }]);
    expect(opened).toBe(0);
  });

  it("passes the subgraph's refusal of an operation on as its GraphQL errors", async () => {
    const results = [];
    for await (const result of pool().subscribe({ subgraph: 'echo', instances: () => [instance], query: 'subscription { nope }', variables: {}, headers: {} })) results.push(result);
    expect(results).toEqual([{ errors: [expect.objectContaining({ message: expect.stringContaining('Cannot query field "nope"') })] }]);
  });
  it('answers SUBGRAPH_UNAVAILABLE naming the subgraph, the reason and the close code when the subgraph refuses the connection', async () => {
    // A subgraph refusing the caller's token closes with 4401, which graphql-ws does not retry.
    const peer = await rawPeer((socket, message) => message.type === 'connection_init' && socket.close(4401, 'Unauthorized'));
    try {
      const results = await collect(pool(), { authorization: 'Bearer bad' }, 1, () => [{ ...instance, url: peer.url }]);
      expect(results).toHaveLength(1);
      const [error] = results[0].errors ?? [];
      expect(error.message).toBe('subgraph echo is unavailable for this subscription (connection closed: 4401 Unauthorized)');
      expect(error.extensions).toEqual({ code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'echo', reason: 'connection_failed' });
    } finally {
      await peer.close();
    }
  });

  it('terminates a connection whose subgraph stops answering pings, and says which subgraph', async () => {
    // Acknowledges the connection, then never answers a ping: a frozen process, as the socket sees it.
    const peer = await rawPeer((socket, message) => message.type === 'connection_init' && socket.send(JSON.stringify({ type: 'connection_ack' })));
    const dead: string[] = [];
    const connections = pool({ keepAlive: { pingIntervalMs: 50, pongTimeoutMs: 100 }, onDeadPeer: (subgraph: string) => dead.push(subgraph) });
    const abort = new AbortController();
    const results: unknown[] = [];
    const running = (async () => {
      for await (const result of connections.subscribe({ subgraph: 'frozen', instances: () => [{ ...instance, url: peer.url }], query: 'subscription { tick }', variables: {}, headers: {}, signal: abort.signal })) results.push(result);
    })();
    try {
      await eventually(async () => expect(dead[0]).toBe('frozen'));
    } finally {
      abort.abort();
      await running;
      await peer.close();
    }
    expect(results).toEqual([]);
  });

  it('tries the next instance when the one it connects to first refuses the connection', async () => {
    // An instance that died and is not yet out of discovery: its port refuses, the next one serves.
    const [down, up] = [await tickServer('down'), await tickServer('up')];
    await down.close();
    const abort = new AbortController();
    const seen: unknown[] = [];
    try {
      for await (const result of pool().subscribe({ subgraph: 'ticks', instances: () => [down.instance, up.instance], query: 'subscription { tick }', variables: {}, headers: {}, signal: abort.signal })) {
        seen.push(result);
        if (seen.length === 2) abort.abort();
      }
      expect(seen).toEqual([{ data: { tick: 'up 1' } }, { data: { tick: 'up 2' } }]);
    } finally {
      await up.close();
    }
  }, 20_000);

  it('ends the subscription when its signal aborts, then closes the idle connection', async () => {
    const [ticks] = [await tickServer('t')];
    const abort = new AbortController();
    const seen: string[] = [];
    const connections = pool({ idleCloseMs: 50 });
    try {
      for await (const result of connections.subscribe({ subgraph: 'ticks', instances: () => [ticks.instance], query: 'subscription { tick }', variables: {}, headers: {}, signal: abort.signal })) {
        seen.push((result.data as { tick: string }).tick);
        if (seen.length === 2) abort.abort();
      }
      expect(seen).toEqual(['t 1', 't 2']);
      expect(connections.size).toBe(1);
      await eventually(async () => expect(connections.size).toBe(0));
    } finally {
      await ticks.close();
    }
  });

  it("shares the caller's connection whatever the order and case of the headers, keeping the operation's own apart", async () => {
    const connections = pool();
    const [a, b] = await Promise.all([
      collect(connections, { authorization: 'Bearer u1', 'x-tenant': 't1', 'X-Correlation-Id': 'c-a', traceparent: '00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01' }, 1),
      collect(connections, { 'x-tenant': 't1', 'x-correlation-id': 'c-b', authorization: 'Bearer u1' }, 1),
    ]);
    expect(a).toEqual([{ data: { seen: 'Bearer u1 c-a' } }]);
    expect(b).toEqual([{ data: { seen: 'Bearer u1 c-b' } }]);
    expect(opened).toBe(1);
    expect(connections.size).toBe(1);
  });

  it('keeps a connection that is in use when the pool is full: its stream goes on', async () => {
    const ticks = await tickServer('t');
    const connections = pool({ maxConnections: 1 });
    const abort = new AbortController();
    const seen: string[] = [];
    try {
      const running = (async () => {
        for await (const result of connections.subscribe({ subgraph: 'ticks', instances: () => [ticks.instance], query: 'subscription { tick }', variables: {}, headers: { authorization: 'Bearer u1' }, signal: abort.signal }))
          seen.push((result.data as { tick: string }).tick);
      })();
      await eventually(async () => expect(seen).toContain('t 1'));
      // Another caller takes the only place in the pool: u1's stream goes on regardless.
      expect(await collect(connections, { authorization: 'Bearer u2' }, 1)).toEqual([{ data: { seen: 'Bearer u2 undefined' } }]);
      const before = seen.length;
      await eventually(async () => expect(seen.length).toBeGreaterThan(before + 1));
      abort.abort();
      await running;
      expect(connections.size).toBe(1);
    } finally {
      await ticks.close();
    }
  });

  it('closes without an error while a connection is retrying an instance that went away', async () => {
    // graphql-ws's dispose() awaits the attempt in flight and rejects with its ECONNREFUSED: unawaited,
    // that rejection used to surface after this file had finished, failing whichever suite ran next.
    const peer = await rawPeer((socket, message) => message.type === 'connection_init' && socket.send(JSON.stringify({ type: 'connection_ack' })));
    const connections = new UpstreamConnections();
    const abort = new AbortController();
    const connected = new Promise<void>((resolve) => peer.onConnection(resolve));
    const running = (async () => {
      for await (const result of connections.subscribe({ subgraph: 'gone', instances: () => [{ ...instance, url: peer.url }], query: 'subscription { tick }', variables: {}, headers: {}, signal: abort.signal })) void result;
    })();
    await connected;
    await peer.close();
    abort.abort();
    await expect(connections.close()).resolves.toBeUndefined();
    await running;
  }, 20_000);

  it('closes every connection on close()', async () => {
    const connections = pool();
    await collect(connections, { authorization: 'Bearer u1' }, 1);
    await collect(connections, { authorization: 'Bearer u2' }, 1);
    expect(connections.size).toBe(2);
    await connections.close();
    expect(connections.size).toBe(0);
    await eventually(async () => expect(closed).toBe(2));
  });
});
