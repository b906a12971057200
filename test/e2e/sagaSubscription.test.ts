/**
 * `placeOrder` watched through the gateway as a user does it, on the platform `npm start` runs:
 * a federated subscription (the sagas subgraph owns `sagaStatus`, the orders subgraph resolves
 * `order { status total }` of each event) over graphql-ws, over SSE and over multipart HTTP (as
 * Apollo Client asks for a subscription; Apollo Client 4 itself follows one over its HttpLink), then
 * `saga` by query.
 */
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { startPlatform, type RunningPlatform } from '../support/platform';
import { postGraphQL, postGraphQLSse } from '../support/graphql';
import { platformToken } from '../support/identity';
import { PLACE_ORDER_STAGES, sagaStage, WATCHABLE_SAGAS } from '../support/sagaStates';
import { allMultipartParts, isHeartbeat, postGraphQLMultipart } from '../support/multipartParts';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';

const PLACE_ORDER = `mutation($items: [OrderItemInput!]!, $method: String!) {
  placeOrder(input: { items: $items, paymentMethod: $method }) { sagaId state }
}`;
const SAGA_STATUS = `subscription($id: ID!) {
  sagaStatus(id: $id) { id state error steps { name state attempts error gaveUp } order { id status total } }
}`;

/**
 * Every event, not only the last: each is this saga with its three steps, and the stages are
 * exactly `expected`, in order, with none missing, repeated or added.
 */
function expectStages(events: SagaEvent[], sagaId: string, expected: readonly string[]): void {
  expect(events.map((event) => [event.id, event.steps.map((step) => step.name)])).toEqual(events.map(() => [sagaId, ['reserveStock', 'chargePayment', 'createOrder']]));
  expect(events.map(sagaStage)).toEqual(expected);
}

interface SagaEvent {
  id: string;
  state: string;
  error: string | null;
  steps: Array<{ name: string; state: string; gaveUp: string | null }>;
  order: { id: string; status: string; total: number } | null;
}

describe('placeOrder watched through the gateway', () => {
  let platform: RunningPlatform;
  let buyer: { authorization: string };

  beforeAll(async () => {
    // Steps pause, so a subscription opened when placeOrder answers sees the saga before its first step moves.
    platform = await startPlatform({ env: WATCHABLE_SAGAS });
    buyer = { authorization: `Bearer ${await platformToken(platform.base, 'u1')}` };
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const placeOrder = async (items: Array<{ productId: string; quantity: number }>, method = 'card-ok') => {
    const { body } = await postGraphQL<{ placeOrder: { sagaId: string; state: string } }>(platform.gatewayUrl, PLACE_ORDER, {
      variables: { items, method },
      headers: buyer,
    });
    expect(body.errors).toBeUndefined();
    return body.data!.placeOrder;
  };

  const overWebSocket = async (id: string): Promise<SagaEvent[]> => {
    const client = createClient({ url: platform.gatewayUrl.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { headers: buyer }, retryAttempts: 0 });
    const events: SagaEvent[] = [];
    try {
      for await (const result of client.iterate<{ sagaStatus: SagaEvent }>({ query: SAGA_STATUS, variables: { id } })) {
        expect(result.errors).toBeUndefined();
        events.push(result.data!.sagaStatus);
      }
    } finally {
      await client.dispose();
    }
    return events;
  };

  const overSse = async (id: string): Promise<{ events: SagaEvent[]; completed: boolean }> => {
    const { headers, events } = await postGraphQLSse(platform.gatewayUrl, SAGA_STATUS, { variables: { id }, headers: buyer });
    expect(headers.get('content-type')).toMatch(/text\/event-stream/);
    // Every event but the closing one is a `next` without errors: none is skipped by a filter.
    const body = events.slice(0, -1);
    expect(body.map((e) => [e.event, (e.data as { errors?: unknown }).errors])).toEqual(body.map(() => ['next', undefined]));
    return {
      events: body.map((e) => (e.data as { data: { sagaStatus: SagaEvent } }).data.sagaStatus),
      completed: events.at(-1)?.event === 'complete',
    };
  };

  const overMultipart = async (id: string): Promise<SagaEvent[]> => {
    const response = await postGraphQLMultipart(platform.gatewayUrl, SAGA_STATUS, { variables: { id }, headers: buyer });
    expect(response.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";subscriptionSpec=1.0');
    // Read to the closing delimiter (a stream cut short fails); every part is a heartbeat or an event without errors.
    const events = (await allMultipartParts(response)).filter((part) => !isHeartbeat(part)) as Array<{ payload: { data: { sagaStatus: SagaEvent }; errors?: unknown } }>;
    expect(events.map((part) => [Object.keys(part), part.payload.errors])).toEqual(events.map(() => [['payload'], undefined]));
    return events.map((part) => part.payload.data.sagaStatus);
  };

  it('streams every state over multipart HTTP, in order, to COMPLETED, and closes the stream at the end', async () => {
    const started = await placeOrder([{ productId: 'p2', quantity: 1 }]);
    const events = await overMultipart(started.sagaId);
    expectStages(events, started.sagaId, PLACE_ORDER_STAGES.completed);
    expect(events.at(-1)!.order).toEqual({ id: expect.stringContaining(started.sagaId), status: 'CONFIRMED', total: 54 });
  });

  it('is followed to COMPLETED by Apollo Client 4 over its HttpLink alone (multipart, no WebSocket), from its own placeOrder', async () => {
    const client = new ApolloClient({ link: new HttpLink({ uri: platform.gatewayUrl, headers: buyer }), cache: new InMemoryCache() });
    try {
      const placed = await client.mutate<{ placeOrder: { sagaId: string } }>({ mutation: gql(PLACE_ORDER), variables: { items: [{ productId: 'p3', quantity: 1 }], method: 'card-ok' } });
      const sagaId = placed.data!.placeOrder.sagaId;
      const events = await new Promise<SagaEvent[]>((resolve, reject) => {
        const seen: SagaEvent[] = [];
        client.subscribe<{ sagaStatus: SagaEvent }>({ query: gql(SAGA_STATUS), variables: { id: sagaId } }).subscribe({
          next: (result) => (result.error ? reject(result.error) : seen.push(result.data!.sagaStatus)),
          error: reject,
          complete: () => resolve(seen),
        });
      });
      expectStages(events, sagaId, PLACE_ORDER_STAGES.completed);
      expect(events.at(-1)!.order).toEqual({ __typename: 'Order', id: expect.stringContaining(sagaId), status: 'CONFIRMED', total: 4.99 });
    } finally {
      client.stop();
    }
  });

  it('answers at once, then streams every state over graphql-ws with the order resolved by the orders subgraph', async () => {
    const started = await placeOrder([{ productId: 'p1', quantity: 2 }]);
    expect(['PENDING', 'RUNNING']).toContain(started.state);

    const events = await overWebSocket(started.sagaId);
    expectStages(events, started.sagaId, PLACE_ORDER_STAGES.completed);
    const last = events[events.length - 1];
    expect(last.state).toBe('COMPLETED');
    expect(last.steps.map((step) => [step.state, step.gaveUp])).toEqual([['SUCCEEDED', null], ['SUCCEEDED', null], ['SUCCEEDED', null]]);
    expect(last.error).toBeNull();
    expect(last.order).toEqual({ id: expect.stringContaining(started.sagaId), status: 'CONFIRMED', total: 25 });

    const { body } = await postGraphQL<{ saga: { state: string; steps: Array<{ name: string; state: string }> } }>(
      platform.gatewayUrl,
      'query($id: ID!) { saga(id: $id) { id state steps { name state } } }',
      { variables: { id: started.sagaId }, headers: buyer },
    );
    expect(body.data!.saga).toMatchObject({ state: 'COMPLETED', steps: [{ name: 'reserveStock' }, { name: 'chargePayment' }, { name: 'createOrder' }] });
  });

  it('streams a declined card to COMPENSATED over SSE, and completes the stream', async () => {
    const started = await placeOrder([{ productId: 'p4', quantity: 1 }], 'card-declined');
    const { events, completed } = await overSse(started.sagaId);
    expect(completed).toBe(true);
    expectStages(events, started.sagaId, PLACE_ORDER_STAGES.declined);
    const last = events[events.length - 1];
    // The card refusal is one retrying cannot fix: the payment step says it gave up for that reason.
    expect(last.steps.map((step) => [step.state, step.gaveUp])).toEqual([['COMPENSATED', null], ['FAILED', 'REFUSED'], ['PENDING', null]]);
    expect(last.error).toBeNull();
    expect(last.order).toBeNull();
  });

  it('answers a saga, its order and its payment to the buyer only: another user is refused on HTTP, graphql-ws, SSE and multipart', async () => {
    const started = await placeOrder([{ productId: 'p1', quantity: 1 }]);
    const stranger = { authorization: `Bearer ${await platformToken(platform.base, 'u2', ['users:email', 'payments:read'])}` };
    const SAGA = 'query($id: ID!) { saga(id: $id) { id state order { id total } } }';

    const byQuery = await postGraphQL(platform.gatewayUrl, SAGA, { variables: { id: started.sagaId }, headers: stranger });
    expect(byQuery.body.data).toEqual({ saga: null });
    expect(byQuery.body.errors).toEqual([expect.objectContaining({ path: ['saga'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);

    const client = createClient({ url: platform.gatewayUrl.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { headers: stranger }, retryAttempts: 0 });
    const overWs: unknown[] = [];
    try {
      for await (const result of client.iterate({ query: SAGA_STATUS, variables: { id: started.sagaId } })) overWs.push(result);
    } catch (errors) {
      overWs.push({ thrown: errors });
    } finally {
      await client.dispose();
    }
    const refusal = { errors: [{ message: `saga ${started.sagaId} belongs to another user`, path: ['sagaStatus'], extensions: { code: 'FORBIDDEN' } }] };
    // One message, the refusal, and no state.
    expect(overWs).toEqual([refusal]);

    const overSseStream = await postGraphQLSse(platform.gatewayUrl, SAGA_STATUS, { variables: { id: started.sagaId }, headers: stranger });
    expect(overSseStream.events).toEqual([{ event: 'next', data: refusal }, { event: 'complete', data: undefined }]);
    const overMultipartStream = await postGraphQLMultipart(platform.gatewayUrl, SAGA_STATUS, { variables: { id: started.sagaId }, headers: stranger });
    expect((await allMultipartParts(overMultipartStream)).filter((part) => !isHeartbeat(part))).toEqual([{ payload: refusal }]);

    const orders = await postGraphQL(platform.gatewayUrl, '{ user(id: "u1") { name email orders { id payment { state } } } }', { headers: stranger });
    expect(orders.body.data).toEqual({ user: null });
    expect(orders.body.errors?.map((error) => error.extensions?.code)).toEqual(expect.arrayContaining(['FORBIDDEN']));
    expect(JSON.stringify(orders.body)).not.toMatch(/CAPTURED|ada@/);

    // The buyer still sees all of it.
    const own = await postGraphQL<{ saga: { id: string } }>(platform.gatewayUrl, SAGA, { variables: { id: started.sagaId }, headers: buyer });
    expect(own.body.errors).toBeUndefined();
    expect(own.body.data!.saga.id).toBe(started.sagaId);
    // Watching late: the snapshot first, then every later stage, to the end.
    const late = await overWebSocket(started.sagaId);
    const from = PLACE_ORDER_STAGES.completed.indexOf(sagaStage(late[0]) as never);
    expect(from).toBeGreaterThanOrEqual(0);
    expectStages(late, started.sagaId, PLACE_ORDER_STAGES.completed.slice(from));
  });

  it('refuses bad input before any saga starts, and placeOrder to an anonymous caller', async () => {
    const unknown = await postGraphQL(platform.gatewayUrl, PLACE_ORDER, { variables: { items: [{ productId: 'nope', quantity: 1 }], method: 'card-ok' }, headers: buyer });
    expect(unknown.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    const zero = await postGraphQL(platform.gatewayUrl, PLACE_ORDER, { variables: { items: [{ productId: 'p1', quantity: 0 }], method: 'card-ok' }, headers: buyer });
    expect(zero.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    const anonymous = await postGraphQL(platform.gatewayUrl, PLACE_ORDER, { variables: { items: [{ productId: 'p1', quantity: 1 }], method: 'card-ok' } });
    expect(anonymous.body.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
  });

  it('gives a retried placeOrder with the same Idempotency-Key the first saga, and refuses the key for another order', async () => {
    const send = async (items: Array<{ productId: string; quantity: number }>, key: { header?: string; input?: string }) => {
      const { body } = await postGraphQL<{ placeOrder: { sagaId: string } }>(
        platform.gatewayUrl,
        'mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { sagaId state } }',
        {
          variables: { input: { items, paymentMethod: 'card-ok', ...(key.input ? { idempotencyKey: key.input } : {}) } },
          headers: { ...buyer, ...(key.header ? { 'idempotency-key': key.header } : {}) },
        },
      );
      return body;
    };
    const key = `tap-${Date.now()}`;
    const first = await send([{ productId: 'p1', quantity: 1 }], { header: key });
    const retried = await send([{ productId: 'p1', quantity: 1 }], { header: key });
    const viaInput = await send([{ productId: 'p1', quantity: 1 }], { input: key });
    expect(first.errors).toBeUndefined();
    expect(retried.data!.placeOrder.sagaId).toBe(first.data!.placeOrder.sagaId);
    expect(viaInput.data!.placeOrder.sagaId).toBe(first.data!.placeOrder.sagaId);
    const reused = await send([{ productId: 'p1', quantity: 2 }], { header: key });
    expect(reused.errors?.[0]).toMatchObject({ extensions: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    const unkeyed = [await send([{ productId: 'p1', quantity: 1 }], {}), await send([{ productId: 'p1', quantity: 1 }], {})];
    expect(unkeyed[0].data!.placeOrder.sagaId).not.toBe(unkeyed[1].data!.placeOrder.sagaId);
  });
});
