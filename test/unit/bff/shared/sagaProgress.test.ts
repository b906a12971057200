/** A saga's progress read from a loopback gateway speaking graphql-ws: every state, the token sent, each way it can fail. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { sagaProgress, TERMINAL_SAGA_STATES, type SagaStatus } from '../../../../bff/shared';

const typeDefs = /* GraphQL */ `
  type Step { name: String!, state: String!, attempts: Int!, error: String }
  type Order { id: ID!, status: String!, total: Float! }
  type SagaStatus { id: ID!, state: String!, steps: [Step!]!, order: Order }
  type Query { ok: Boolean }
  type Subscription { sagaStatus(id: ID!): SagaStatus }
`;

const status = (state: string): SagaStatus => ({ id: 's1', state, steps: [{ name: 'reserve', state: 'DONE', attempts: 1, error: null }], order: null });

interface Script {
  /** What the subscription yields, in order; an Error yields a field error. */
  states: Array<SagaStatus | Error>;
  /** Throws from the subscribe resolver itself (an `error` message). */
  refuse?: Error;
  acceptConnection?: boolean;
  /** Keeps the stream open after the states (for abort). */
  hold?: boolean;
}

describe('sagaProgress', () => {
  let http: Server;
  let url: string;
  let script: Script;
  let connectionParams: unknown[];
  let subscribedIds: unknown[];
  let disposed: () => void;

  beforeAll(async () => {
    const schema = buildSchema(typeDefs);
    const field = schema.getSubscriptionType()!.getFields().sagaStatus;
    field.subscribe = async function* (_root: unknown, args: { id: string }) {
      subscribedIds.push(args.id);
      if (script.refuse) throw script.refuse;
      for (const state of script.states) yield { sagaStatus: state };
      if (script.hold) await new Promise(() => undefined);
    };
    field.resolve = (payload: { sagaStatus: SagaStatus | Error }) => {
      if (payload.sagaStatus instanceof Error) throw payload.sagaStatus;
      return payload.sagaStatus;
    };
    http = createServer();
    const wss = new WebSocketServer({ server: http, path: '/graphql' });
    useServer({ schema, onConnect: (ctx) => (connectionParams.push(ctx.connectionParams), script.acceptConnection ?? true), onComplete: () => disposed?.(), onClose: () => disposed?.() }, wss);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`;
  });
  beforeEach(() => {
    connectionParams = [];
    subscribedIds = [];
  });
  afterAll(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });

  const read = async (options: { signal?: AbortSignal; gatewayUrl?: string; onState?: (state: SagaStatus) => void } = {}) => {
    const seen: SagaStatus[] = [];
    for await (const state of sagaProgress({ gatewayUrl: options.gatewayUrl ?? url, sagaId: 's1', token: 'tok', correlationId: 'corr-7', signal: options.signal, keepAlive: { pingIntervalMs: 10_000, pongTimeoutMs: 5_000 } })) {
      seen.push(state);
      options.onState?.(state);
    }
    return seen;
  };

  it('exports the terminal states by name', () => {
    expect(TERMINAL_SAGA_STATES).toEqual(['COMPLETED', 'COMPENSATED', 'FAILED']);
  });

  it.each(['COMPLETED', 'COMPENSATED', 'FAILED'])('yields every state up to %s, then ends', async (terminal) => {
    script = { states: [status('STARTED'), status('RESERVING'), status(terminal), status('NEVER_READ')], hold: true };
    expect((await read()).map((s) => s.state)).toEqual(['STARTED', 'RESERVING', terminal]);
    expect(subscribedIds).toEqual(['s1']);
  });

  it('sends the token and correlation id in connectionParams.headers, and the whole status', async () => {
    script = { states: [{ ...status('COMPLETED'), order: { id: 'o1', status: 'CONFIRMED', total: 12.5 } }] };
    expect(await read()).toEqual([{ id: 's1', state: 'COMPLETED', steps: [{ name: 'reserve', state: 'DONE', attempts: 1, error: null }], order: { id: 'o1', status: 'CONFIRMED', total: 12.5 } }]);
    expect(connectionParams).toEqual([{ headers: { authorization: 'Bearer tok', 'x-correlation-id': 'corr-7' } }]);
  });

  it('ends quietly when the gateway completes the stream before a terminal state', async () => {
    script = { states: [status('STARTED')] };
    expect((await read()).map((s) => s.state)).toEqual(['STARTED']);
  });

  it('answers a refused token (close 4403) as 401 UNAUTHENTICATED', async () => {
    script = { states: [], acceptConnection: false };
    await expect(read()).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED', message: 'the gateway refused the token for the progress subscription' });
  });

  it("answers the gateway's GraphQL error as its HTTP error", async () => {
    script = { states: [], refuse: new Error('no such saga') };
    await expect(read()).rejects.toMatchObject({ status: 502, message: 'no such saga' });
  });

  it('answers a state without data by the field error that came with it', async () => {
    script = { states: [status('STARTED'), new Error('orders broke')] };
    const seen: string[] = [];
    await expect(read({ onState: (s) => seen.push(s.state) })).rejects.toMatchObject({ status: 502, code: 'UPSTREAM_ERROR', message: 'orders broke' });
    expect(seen).toEqual(['STARTED']);
  });

  it('answers a gateway it cannot reach as GATEWAY_UNAVAILABLE, retry in 1 s', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(read({ gatewayUrl: `http://127.0.0.1:${port}/graphql` })).rejects.toMatchObject({ status: 503, code: 'GATEWAY_UNAVAILABLE', retryAfterSec: 1 });
    await expect(read({ gatewayUrl: `http://127.0.0.1:${port}/graphql` })).rejects.toThrow(/^the gateway is unavailable \(socket closed with 1006\); retry later$/);
  });

  it('stops reading and unsubscribes when the signal aborts', async () => {
    script = { states: [status('STARTED')], hold: true };
    const controller = new AbortController();
    const gone = new Promise<void>((resolve) => (disposed = resolve));
    const seen = await read({ signal: controller.signal, onState: () => controller.abort() });
    expect(seen.map((s) => s.state)).toEqual(['STARTED']);
    await gone;
  });
});
