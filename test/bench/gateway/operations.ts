/**
 * What the bench sends: four named operations with variables, as client apps send them, and the
 * data each call must get back, worked out from the dataset (not from any target's answer).
 */
import { PRODUCT_COUNT, SCOPE_EMAIL, SCOPE_PAYMENTS, type BenchUser, type Dataset } from './dataset';

/**
 * Where a gateway puts a field the caller may not see. `null`: a null there (or, on a non-null
 * field, on the nearest nullable parent) plus an error, as Apollo Router, Trellis and a subgraph
 * refusing the field do. `omit`: the key left out of the object plus an error, as Hive Gateway's
 * generic auth (which removes the field from the document) does.
 */
export type DenialStyle = 'null' | 'omit';

export interface Operation {
  /** The query shape this operation stands for in the tables. */
  shape: string;
  operationName: string;
  /** Subgraphs the gateway has to call. */
  subgraphs: string[];
  document: string;
}

export const PRODUCT_PAGE: Operation = {
  shape: 'product',
  operationName: 'ProductPage',
  subgraphs: ['catalog'],
  document: 'query ProductPage($id: ID!) { product(id: $id) { id name price inStock } }',
};
export const PRODUCT_LIST: Operation = {
  shape: 'products',
  operationName: 'ProductList',
  subgraphs: ['catalog'],
  document: 'query ProductList($first: Int!) { products(first: $first) { id name price inStock } }',
};
export const ACCOUNT: Operation = {
  shape: 'user+orders',
  operationName: 'Account',
  subgraphs: ['users', 'orders'],
  document: 'query Account($id: ID!) { user(id: $id) { id name email orders { id total status } } }',
};
export const ORDER_HISTORY: Operation = {
  shape: 'four-subgraph',
  operationName: 'OrderHistory',
  subgraphs: ['users', 'orders', 'catalog', 'payments'],
  document: 'query OrderHistory($id: ID!) { user(id: $id) { name orders { total status items { quantity product { name inStock } } payment { state } } } }',
};
export const OPERATIONS = [PRODUCT_PAGE, PRODUCT_LIST, ACCOUNT, ORDER_HISTORY];

/** `products(first: $n)` page sizes a listing asks for. */
export const PAGE_SIZES = [5, 10, 20, 50];

export interface Expectation {
  /** `JSON.stringify` of the answer's `data`. */
  data: string;
  /** Whether the answer carries errors (a field the caller's scopes do not reach). */
  partial: boolean;
}

/** One request: who sends which operation with which variables, and what must come back. */
export interface Call {
  operation: Operation;
  user: BenchUser;
  variables: Record<string, unknown>;
  /** The request body, serialized once. */
  body: string;
  expected: Record<DenialStyle, Expectation>;
}

type Json = Record<string, unknown>;

/** A field the caller may not see, in either denial style: `nulled` is what the parent becomes when it cannot hold a null. */
function denied(object: Json, field: string, style: DenialStyle): Json {
  const copy = { ...object };
  if (style === 'omit') delete copy[field];
  else copy[field] = null;
  return copy;
}

function expectedData(operation: Operation, variables: Record<string, unknown>, user: BenchUser, data: Dataset, style: DenialStyle): Expectation {
  const products = new Map(data.products.map((product) => [product.id, product]));
  const productFields = (id: string) => {
    const { name, price, inStock } = products.get(id)!;
    return { id, name, price, inStock };
  };
  const orders = data.orders.filter((order) => order.userId === user.id);
  const payments = new Map(data.payments.map((payment) => [payment.orderId, payment]));
  const may = (scope: string) => user.scopes.includes(scope);
  switch (operation) {
    case PRODUCT_PAGE:
      return { data: JSON.stringify({ product: productFields(variables.id as string) }), partial: false };
    case PRODUCT_LIST:
      return { data: JSON.stringify({ products: data.products.slice(0, variables.first as number).map((product) => productFields(product.id)) }), partial: false };
    case ACCOUNT: {
      const account = { id: user.id, name: user.name, email: user.email, orders: orders.map(({ id, total, status }) => ({ id, total, status })) };
      if (may(SCOPE_EMAIL)) return { data: JSON.stringify({ user: account }), partial: false };
      // email is String!: under `null` the null lands on the nullable `user`.
      return { data: JSON.stringify({ user: style === 'omit' ? denied(account, 'email', style) : null }), partial: true };
    }
    case ORDER_HISTORY: {
      const history = orders.map((order) => {
        const payment = payments.get(order.id);
        const line = {
          total: order.total,
          status: order.status,
          items: order.items.map((item) => ({ quantity: item.quantity, product: { name: products.get(item.productId)!.name, inStock: products.get(item.productId)!.inStock } })),
          payment: payment ? { state: payment.state } : null,
        };
        return may(SCOPE_PAYMENTS) ? line : denied(line, 'payment', style);
      });
      return { data: JSON.stringify({ user: { name: user.name, orders: history } }), partial: !may(SCOPE_PAYMENTS) && history.length > 0 };
    }
    default:
      throw new Error(`no expectation for ${operation.operationName}`);
  }
}

export function buildCall(operation: Operation, variables: Record<string, unknown>, user: BenchUser, data: Dataset): Call {
  return {
    operation,
    user,
    variables,
    body: JSON.stringify({ query: operation.document, operationName: operation.operationName, variables }),
    expected: { null: expectedData(operation, variables, user, data, 'null'), omit: expectedData(operation, variables, user, data, 'omit') },
  };
}

/** mulberry32: a small seeded generator, so every target gets the same sequence of calls. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random call of `operation` from a random user: any product, any page size, the user's own account. */
function randomCall(operation: Operation, data: Dataset, random: () => number): Call {
  const user = data.users[Math.floor(random() * data.users.length)];
  switch (operation) {
    case PRODUCT_PAGE:
      return buildCall(operation, { id: `p${1 + Math.floor(random() * PRODUCT_COUNT)}` }, user, data);
    case PRODUCT_LIST:
      return buildCall(operation, { first: PAGE_SIZES[Math.floor(random() * PAGE_SIZES.length)] }, user, data);
    default:
      return buildCall(operation, { id: user.id }, user, data);
  }
}

/** The share of each operation in the `mix` run: mostly product pages, as a shop's traffic is. */
const MIX: Array<[Operation, number]> = [
  [PRODUCT_PAGE, 0.4],
  [PRODUCT_LIST, 0.2],
  [ACCOUNT, 0.2],
  [ORDER_HISTORY, 0.2],
];

export interface Workload {
  /** Row label in the tables: an operation's shape, or `mix`. */
  name: string;
  /** Subgraphs any of its calls reaches (`direct` can only serve a single one). */
  subgraphs: string[];
  /** Sent in turn, round and round. */
  calls: Call[];
}

const SEQUENCE_LENGTH = 4096;

/** The realistic workloads: every operation alone with varied variables and callers, then the mix. */
export function realisticWorkloads(data: Dataset, seed = 16): Workload[] {
  const alone = OPERATIONS.map((operation, index) => {
    const random = seeded(seed + index);
    return { name: operation.shape, subgraphs: operation.subgraphs, calls: Array.from({ length: SEQUENCE_LENGTH }, () => randomCall(operation, data, random)) };
  });
  const random = seeded(seed + OPERATIONS.length);
  const pick = () => {
    let roll = random();
    for (const [operation, share] of MIX) if ((roll -= share) < 0) return operation;
    return MIX[MIX.length - 1][0];
  };
  const mix = { name: 'mix', subgraphs: [...new Set(OPERATIONS.flatMap((operation) => operation.subgraphs))], calls: Array.from({ length: SEQUENCE_LENGTH }, () => randomCall(pick(), data, random)) };
  return [...alone, mix];
}

/** The repeated-query workloads: each operation with one set of variables, from one caller with every scope. */
export function repeatedWorkloads(data: Dataset): Workload[] {
  const caller = data.users[0];
  const variables: Record<string, Record<string, unknown>> = { ProductPage: { id: 'p2' }, ProductList: { first: 5 }, Account: { id: caller.id }, OrderHistory: { id: caller.id } };
  return OPERATIONS.map((operation) => ({ name: operation.shape, subgraphs: operation.subgraphs, calls: [buildCall(operation, variables[operation.operationName], caller, data)] }));
}

/** Every different call of the workloads once (the same body from callers with the same scopes counts once): each is probed on every target before the load. */
export function distinctCalls(workloads: Workload[]): Call[] {
  const seen = new Map<string, Call>();
  for (const workload of workloads) for (const call of workload.calls) seen.set(`${call.user.scopes.join(' ')} ${call.body}`, call);
  return [...seen.values()];
}
