/**
 * `placeOrder` watched through the gateway as a user does it, on the platform `npm start` runs:
 * a federated subscription (the sagas subgraph owns `sagaStatus`, the orders subgraph resolves
 * `order { status total }` of each event) over graphql-ws and over SSE, then `saga` by query.
 */
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { startPlatform, type RunningPlatform } from '../support/platform';
import { postGraphQL, postGraphQLSse } from '../support/graphql';
import { platformToken } from '../support/identity';

const PLACE_ORDER = `mutation($items: [OrderItemInput!]!, $method: String!) {
  placeOrder(input: { items: $items, paymentMethod: $method }) { sagaId state }
}`;
const SAGA_STATUS = `subscription($id: ID!) {
  sagaStatus(id: $id) { id state steps { name state attempts error } order { id status total } }
}`;

interface SagaEvent {
  id: string;
  state: string;
  steps: Array<{ name: string; state: string }>;
  order: { id: string; status: string; total: number } | null;
}

describe('placeOrder watched through the gateway', () => {
  let platform: RunningPlatform;
  let buyer: { authorization: string };

  beforeAll(async () => {
    platform = await startPlatform();
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
    return {
      events: events.filter((e) => e.event === 'next').map((e) => (e.data as { data: { sagaStatus: SagaEvent } }).data.sagaStatus),
      completed: events.at(-1)?.event === 'complete',
    };
  };

  it('answers at once, then streams every state over graphql-ws with the order resolved by the orders subgraph', async () => {
    const started = await placeOrder([{ productId: 'p1', quantity: 2 }]);
    expect(['PENDING', 'RUNNING']).toContain(started.state);

    const events = await overWebSocket(started.sagaId);
    expect(events[0].id).toBe(started.sagaId);
    const last = events[events.length - 1];
    expect(last.state).toBe('COMPLETED');
    expect(last.steps.map((step) => step.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
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
    const last = events[events.length - 1];
    expect(last.state).toBe('COMPENSATED');
    expect(last.steps.map((step) => step.state)).toEqual(['COMPENSATED', 'FAILED', 'PENDING']);
    expect(last.order).toBeNull();
    // In order: once compensation is seen, RUNNING never comes back.
    const states = events.map((event) => event.state);
    const firstUndo = states.findIndex((state) => state === 'COMPENSATING' || state === 'COMPENSATED');
    expect(states.slice(firstUndo).every((state) => state !== 'RUNNING')).toBe(true);
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
