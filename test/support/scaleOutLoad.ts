/**
 * The scale-out chaos test's two steady loads through a balanced pair of gateways
 * (balancedGateways.ts): placeOrder from many users with varied orders, each with its own
 * idempotency key, recording every saga acknowledged; and queries across the subgraphs with varied
 * variables. Open loop: one call every interval whether or not the earlier ones are answered, so
 * a gateway that stalls during a fault is not sent less.
 */
import type { BalancedGateways } from './balancedGateways';
import { DECLINED_METHOD } from '../../subgraphs/payments/ledger';

/** A steady sender: call i at start + i·interval, never waiting for call i−1; `stop` waits for every call sent. */
export interface SteadyLoad {
  readonly sent: number;
  stop(): Promise<void>;
}

export function steadyLoad(intervalMs: number, call: (i: number) => Promise<void>): SteadyLoad {
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  const timer = setInterval(() => {
    const done: Promise<void> = call(sent++).finally(() => inFlight.delete(done));
    inFlight.add(done);
  }, intervalMs);
  return {
    get sent() {
      return sent;
    },
    stop: async () => {
      clearInterval(timer);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

const PLACE_ORDER = `mutation($items: [OrderItemInput!]!, $method: String!, $key: String!) {
  placeOrder(input: { items: $items, paymentMethod: $method, idempotencyKey: $key }) { sagaId state }
}`;

/** A saga placeOrder acknowledged: its id, who placed it, and when (ms since the epoch). */
export interface AcknowledgedSaga {
  sagaId: string;
  userId: string;
  paymentMethod: string;
  at: number;
}

export interface SagaLoad extends SteadyLoad {
  readonly acknowledged: AcknowledgedSaga[];
  /** placeOrder answered with an error instead of a saga: its code, and when. */
  readonly refused: Array<{ code: string; at: number }>;
}

/** Order i: mostly stickers and notebooks in varied quantities, now and then a mug or the scarce hoodie; every 7th card declined (compensated). */
export function orderOf(i: number): { items: Array<{ productId: string; quantity: number }>; method: string } {
  const items = [{ productId: i % 2 === 0 ? 'p3' : 'p4', quantity: 1 + (i % 3) }];
  if (i % 5 === 0) items.push({ productId: 'p1', quantity: 1 });
  if (i % 11 === 0) items.push({ productId: 'p2', quantity: 1 });
  return { items, method: i % 7 === 3 ? DECLINED_METHOD : 'card-ok' };
}

/** placeOrder every `intervalMs`, user i mod users, key `<runId>-<i>`. */
export function sagaLoad(gateways: BalancedGateways, users: Array<{ id: string; authorization: string }>, runId: string, intervalMs: number): SagaLoad {
  const acknowledged: AcknowledgedSaga[] = [];
  const refused: SagaLoad['refused'] = [];
  const load = steadyLoad(intervalMs, async (i) => {
    const user = users[i % users.length];
    const { items, method } = orderOf(i);
    const answer = await gateways.post<{ placeOrder: { sagaId: string } }>(PLACE_ORDER, { items, method, key: `${runId}-${i}` }, { authorization: user.authorization });
    const sagaId = answer.body?.data?.placeOrder?.sagaId;
    if (sagaId) acknowledged.push({ sagaId, userId: user.id, paymentMethod: method, at: Date.now() });
    else if (answer.answered) refused.push({ code: answer.body?.errors?.[0]?.extensions?.code ?? '?', at: Date.now() });
  });
  return Object.assign(load, { acknowledged, refused });
}

/** Queries that cross the subgraphs, with their variables; `handle` is asked for once the new users revision serves. */
const QUERIES: Array<(i: number) => { query: string; variables: Record<string, unknown> }> = [
  (i) => ({ query: 'query($first: Int) { products(first: $first) { id name price inStock } }', variables: { first: 1 + (i % 5) } }),
  (i) => ({ query: 'query($id: ID!) { product(id: $id) { id name inStock } }', variables: { id: `p${1 + (i % 5)}` } }),
  () => ({
    query: 'query($id: ID!) { user(id: $id) { name orders { total status items { quantity product { name } } payment { state } } } }',
    variables: { id: 'u1' },
  }),
  () => ({ query: '{ users { id name } }', variables: {} }),
];

/** A query every `intervalMs` as u1 (who may read payments); `extra` adds queries while it returns some (the new revision's field). */
export function queryLoad(gateways: BalancedGateways, authorization: string, intervalMs: number, extra: () => string[] = () => []): SteadyLoad {
  return steadyLoad(intervalMs, async (i) => {
    const added = extra();
    const all = [...QUERIES.map((build) => build(i)), ...added.map((query) => ({ query, variables: {} }))];
    const { query, variables } = all[i % all.length];
    await gateways.post(query, variables, { authorization });
  });
}
