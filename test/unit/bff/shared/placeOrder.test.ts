/** placeOrder: the body both BFFs accept, the idempotency key they forward, and the mutation they send. */
import { placeOrder, type GatewayClient, type GatewayRequest, type GatewayResponse } from '../../../../bff/shared';
import type { Caller } from '../../../../bff/shared';

const caller: Caller = { id: 'u1', scopes: [], token: 'tok', cacheKey: 'user:u1:x' };

function recordingGateway(answer: GatewayResponse<unknown>): Pick<GatewayClient, 'execute'> & { sent: GatewayRequest[] } {
  const sent: GatewayRequest[] = [];
  return {
    sent,
    execute: async <T>(request: GatewayRequest) => {
      sent.push(request);
      return answer as GatewayResponse<T>;
    },
  };
}

const started = { status: 200, body: { data: { placeOrder: { sagaId: 's1', state: 'STARTED' } } } };

describe('placeOrder', () => {
  it('sends the placeOrder mutation with the validated input, the caller token, the correlation id and the key', async () => {
    const gateway = recordingGateway(started);
    const result = await placeOrder(gateway, { items: [{ productId: 'p1', quantity: 2 }] }, caller, 'corr', 'key-12345678');
    expect(result).toEqual({ sagaId: 's1', state: 'STARTED' });
    expect(gateway.sent).toEqual([
      {
        query: 'mutation PlaceOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { sagaId state } }',
        variables: { input: { items: [{ productId: 'p1', quantity: 2 }], paymentMethod: 'card-ok', idempotencyKey: 'key-12345678' } },
        token: 'tok',
        correlationId: 'corr',
      },
    ]);
  });

  it('makes a fresh idempotency key per request when the app sends none', async () => {
    const gateway = recordingGateway(started);
    await placeOrder(gateway, { items: [{ productId: 'p1', quantity: 1 }], paymentMethod: 'card-x' }, caller, 'c', undefined);
    await placeOrder(gateway, { items: [{ productId: 'p1', quantity: 1 }] }, caller, 'c', undefined);
    const keys = gateway.sent.map((request) => (request.variables!.input as { idempotencyKey: string }).idempotencyKey);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).not.toBe(keys[0]);
    expect((gateway.sent[0].variables!.input as { paymentMethod: string }).paymentMethod).toBe('card-x');
  });

  it('refuses a malformed Idempotency-Key before calling the gateway', async () => {
    const gateway = recordingGateway(started);
    await expect(placeOrder(gateway, { items: [{ productId: 'p1', quantity: 1 }] }, caller, 'c', 'bad key!')).rejects.toMatchObject({ status: 400, code: 'BAD_REQUEST', message: expect.stringMatching(/^Idempotency-Key /) });
    expect(gateway.sent).toEqual([]);
  });

  it.each([
    ['no items', { items: [] }],
    ['too many items', { items: Array.from({ length: 21 }, () => ({ productId: 'p', quantity: 1 })) }],
    ['quantity 0', { items: [{ productId: 'p', quantity: 0 }] }],
    ['quantity 101', { items: [{ productId: 'p', quantity: 101 }] }],
    ['fractional quantity', { items: [{ productId: 'p', quantity: 1.5 }] }],
    ['empty product id', { items: [{ productId: '', quantity: 1 }] }],
    ['product id of 65', { items: [{ productId: 'p'.repeat(65), quantity: 1 }] }],
    ['unknown item field', { items: [{ productId: 'p', quantity: 1, price: 0 }] }],
    ['unknown field', { items: [{ productId: 'p', quantity: 1 }], coupon: 'x' }],
    ['empty payment method', { items: [{ productId: 'p', quantity: 1 }], paymentMethod: '' }],
    ['payment method of 65', { items: [{ productId: 'p', quantity: 1 }], paymentMethod: 'x'.repeat(65) }],
  ])('refuses an order with %s as a 400 invalid order', async (_name, body) => {
    const gateway = recordingGateway(started);
    await expect(placeOrder(gateway, body, caller, 'c', undefined)).rejects.toMatchObject({ status: 400, message: 'invalid order' });
    expect(gateway.sent).toEqual([]);
  });

  it('accepts the limits themselves: 20 items, quantities 1 and 100, ids of 64', async () => {
    const gateway = recordingGateway(started);
    const items = Array.from({ length: 20 }, (_, i) => ({ productId: 'p'.repeat(64), quantity: i === 0 ? 100 : 1 }));
    await placeOrder(gateway, { items, paymentMethod: 'x'.repeat(64) }, caller, 'c', undefined);
    expect(gateway.sent).toHaveLength(1);
  });

  it("answers the gateway's refusal as its HTTP error", async () => {
    const gateway = recordingGateway({ status: 200, body: { data: null, errors: [{ message: 'sign in', extensions: { code: 'UNAUTHENTICATED' } }] } });
    await expect(placeOrder(gateway, { items: [{ productId: 'p', quantity: 1 }] }, caller, 'c', undefined)).rejects.toMatchObject({ status: 401, message: 'sign in' });
  });
});
