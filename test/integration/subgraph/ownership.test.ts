/**
 * A user's orders, payments, email and sagas are that user's own: each example subgraph, reached
 * directly (not through the gateway), over a root field, `_entities` or a subscription, refuses
 * another caller with FORBIDDEN and answers the owner. There is no admin scope that lifts this.
 */
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import type { Subgraph } from '@trellis/kit';
import { usersSubgraph } from '../../../subgraphs/users';
import { ordersSubgraph } from '../../../subgraphs/orders';
import { paymentsSubgraph } from '../../../subgraphs/payments';
import { sagasSubgraph } from '../../../subgraphs/sagas';
import { startSubgraph } from '../../support/inProcess';
import { startTestIdentity, type TestIdentity } from '../../support/identity';
import { postGraphQL } from '../../support/graphql';

type Errors = Array<{ path?: unknown[]; extensions?: Record<string, unknown> }> | undefined;
const codes = (errors: Errors) => (errors ?? []).map((error) => [error.path, error.extensions?.code]);

describe('the example subgraphs answer a user’s own data only to that user', () => {
  let identity: TestIdentity;
  let users: Subgraph;
  let orders: Subgraph;
  let payments: Subgraph;
  let sagas: Subgraph;
  /** A saga u1 started (no participants run here: it stays in flight, which is all these checks need). */
  let u1Saga: string;

  // Every scope the platform knows: ownership is not a scope, and no scope lifts it.
  const ALL_SCOPES = ['users:email', 'payments:read', 'admin'];
  const as = (sub: string) => identity.bearer(sub, ALL_SCOPES);

  beforeAll(async () => {
    identity = await startTestIdentity();
    const catalog = async (ids: string[]) => new Map(ids.map((id) => [id, { price: 10, inStock: 100 }]));
    [users, orders, payments, sagas] = await Promise.all(
      [usersSubgraph, ordersSubgraph, paymentsSubgraph, sagasSubgraph({ catalog })].map((factory) => startSubgraph(factory, identity.env)),
    );
    const placed = await postGraphQL<{ placeOrder: { sagaId: string } }>(
      sagas.url,
      'mutation { placeOrder(input: { items: [{ productId: "p1", quantity: 1 }], paymentMethod: "card-ok" }) { sagaId } }',
      { headers: await as('u1') },
    );
    expect(placed.body.errors).toBeUndefined();
    u1Saga = placed.body.data!.placeOrder.sagaId;
  });

  afterAll(async () => {
    for (const subgraph of [users, orders, payments, sagas]) await subgraph?.stop();
    await identity?.stop();
  });

  describe('payments: Order.payment over _entities', () => {
    const payment = (order: string) => `{ _entities(representations: [{ __typename: "Order", id: "${order}" }]) { ... on Order { payment { state amount } } } }`;

    it('u2 reading u1’s payment is refused with FORBIDDEN, and nothing of it leaks', async () => {
      const { body } = await postGraphQL(payments.url, payment('o1'), { headers: await as('u2') });
      expect(body.data).toEqual({ _entities: [{ payment: null }] });
      expect(codes(body.errors)).toEqual([[['_entities', 0, 'payment'], 'FORBIDDEN']]);
      expect(JSON.stringify(body)).not.toContain('29.99');
    });

    it('the owner reads it', async () => {
      expect((await postGraphQL(payments.url, payment('o1'), { headers: await as('u1') })).body).toEqual({ data: { _entities: [{ payment: { state: 'CAPTURED', amount: 29.99 } }] } });
      expect((await postGraphQL(payments.url, payment('o3'), { headers: await as('u2') })).body).toEqual({ data: { _entities: [{ payment: { state: 'AUTHORIZED', amount: 29.25 } }] } });
    });
  });

  describe('orders: User.orders and Order over _entities', () => {
    const userOrders = (user: string) => `{ _entities(representations: [{ __typename: "User", id: "${user}" }]) { ... on User { orders { id total } } } }`;
    const order = (id: string) => `{ _entities(representations: [{ __typename: "Order", id: "${id}" }]) { ... on Order { id total user { id } } } }`;

    it('u2 listing u1’s orders is refused with FORBIDDEN', async () => {
      const { body } = await postGraphQL(orders.url, userOrders('u1'), { headers: await as('u2') });
      expect(body.data).toEqual({ _entities: [null] });
      expect(codes(body.errors)).toEqual([[['_entities', 0, 'orders'], 'FORBIDDEN']]);
      expect(JSON.stringify(body)).not.toContain('o1');
    });

    it('u2 reading u1’s order by id is refused with FORBIDDEN; an anonymous caller too', async () => {
      const stranger = await postGraphQL(orders.url, order('o1'), { headers: await as('u2') });
      expect(stranger.body.data).toEqual({ _entities: [null] });
      expect(codes(stranger.body.errors)).toEqual([[['_entities', 0], 'FORBIDDEN']]);
      const anonymous = await postGraphQL(orders.url, order('o1'));
      expect(codes(anonymous.body.errors)).toEqual([[['_entities', 0], 'FORBIDDEN']]);
    });

    it('the owner lists and reads their orders', async () => {
      expect((await postGraphQL(orders.url, userOrders('u1'), { headers: await as('u1') })).body).toEqual({
        data: { _entities: [{ orders: [{ id: 'o2', total: 54 }, { id: 'o1', total: 29.99 }] }] },
      });
      expect((await postGraphQL(orders.url, order('o1'), { headers: await as('u1') })).body).toEqual({ data: { _entities: [{ id: 'o1', total: 29.99, user: { id: 'u1' } }] } });
    });
  });

  describe('users: User.email', () => {
    it('u2 with users:email reading u1’s email is refused with FORBIDDEN, by id and over _entities', async () => {
      const byId = await postGraphQL(users.url, '{ user(id: "u1") { email } }', { headers: await as('u2') });
      expect(byId.body.data).toEqual({ user: null });
      expect(codes(byId.body.errors)).toEqual([[['user', 'email'], 'FORBIDDEN']]);
      const entity = await postGraphQL(users.url, '{ _entities(representations: [{ __typename: "User", id: "u1" }]) { ... on User { name email } } }', { headers: await as('u2') });
      expect(codes(entity.body.errors)).toEqual([[['_entities', 0, 'email'], 'FORBIDDEN']]);
      expect(JSON.stringify([byId.body, entity.body])).not.toContain('ada@');
    });

    it('the owner reads their email; names stay public', async () => {
      expect((await postGraphQL(users.url, '{ user(id: "u1") { name email } me { email } }', { headers: await as('u1') })).body).toEqual({
        data: { user: { name: 'Ada Lovelace', email: 'ada@example.com' }, me: { email: 'ada@example.com' } },
      });
      expect((await postGraphQL(users.url, '{ user(id: "u1") { name } }', { headers: await as('u2') })).body).toEqual({ data: { user: { name: 'Ada Lovelace' } } });
    });
  });

  describe('sagas: Query.saga and Subscription.sagaStatus', () => {
    const SAGA = 'query($id: ID!) { saga(id: $id) { id state } }';
    const STATUS = 'subscription($id: ID!) { sagaStatus(id: $id) { id state } }';

    const subscribe = async (headers: Record<string, string> | undefined, id: string, take: number) => {
      const client = createClient({ url: sagas.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: headers ? { headers } : undefined });
      const results: unknown[] = [];
      try {
        for await (const result of client.iterate({ query: STATUS, variables: { id } })) {
          results.push(result);
          if (results.length === take) break;
        }
      } catch (errors) {
        // graphql-ws ends the stream with the errors of an operation refused before it started.
        results.push({ errors });
      } finally {
        await client.dispose();
      }
      return results;
    };

    it('u2 querying u1’s saga by id is refused with FORBIDDEN; anonymous too', async () => {
      const stranger = await postGraphQL(sagas.url, SAGA, { variables: { id: u1Saga }, headers: await as('u2') });
      expect(stranger.body.data).toEqual({ saga: null });
      expect(codes(stranger.body.errors)).toEqual([[['saga'], 'FORBIDDEN']]);
      const anonymous = await postGraphQL(sagas.url, SAGA, { variables: { id: u1Saga } });
      expect(codes(anonymous.body.errors)).toEqual([[['saga'], 'FORBIDDEN']]);
    });

    it('u2 subscribing to u1’s saga status gets one FORBIDDEN error and no state', async () => {
      const results = await subscribe(await as('u2'), u1Saga, 2);
      // The stream ends after the refusal: one message, an error, no saga.
      expect(results).toEqual([{ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })] }]);
    });

    it('the owner queries and subscribes', async () => {
      expect((await postGraphQL(sagas.url, SAGA, { variables: { id: u1Saga }, headers: await as('u1') })).body).toEqual({ data: { saga: { id: u1Saga, state: expect.any(String) } } });
      expect(await subscribe(await as('u1'), u1Saga, 1)).toEqual([{ data: { sagaStatus: { id: u1Saga, state: expect.any(String) } } }]);
    });

    it('an unknown saga stays null (by id) and NOT_FOUND (subscribed), whoever asks', async () => {
      expect((await postGraphQL(sagas.url, SAGA, { variables: { id: 'no-such-saga' }, headers: await as('u2') })).body).toEqual({ data: { saga: null } });
      expect(await subscribe(await as('u2'), 'no-such-saga', 2)).toEqual([{ errors: [expect.objectContaining({ message: 'no saga with id no-such-saga', extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })] }]);
    });
  });
});
