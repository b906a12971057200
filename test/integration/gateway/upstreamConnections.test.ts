/**
 * The gateway's upstream subscriptions against a real graphql-ws server that reads headers the way
 * the kit does (operationHeaders): one connection per caller identity, shared by that caller's
 * subscriptions, each operation with its own correlation id; other callers never share it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { buildSchema } from 'graphql';
import { UpstreamConnections } from '../../../gateway/subscriptions/upstream';
import { operationHeaders } from '../../../shared/subgraph/context';
import type { ServiceInstance } from '../../../shared/discovery';
import { eventually } from '../../support/graphql';

const schema = buildSchema('type Query { ok: Boolean } type Subscription { seen(times: Int!): String! }');

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
});
