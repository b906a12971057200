/**
 * What the bench sends: four named operations with variables, as client apps send them, and the
 * data each call must get back, worked out from the dataset (not from any target's answer).
 */
import { seededRandom } from '../../support/random';
import { PRODUCT_COUNT, SCOPE_EMAIL, SCOPE_PAYMENTS, type BenchUser, type Dataset } from './dataset';

/**
 * Where a gateway puts the null of a field the caller may not see (always with an error).
 * `propagate`: on the field, or on a non-null field's nearest nullable parent, as GraphQL
 * execution does, as Apollo Router, Trellis and a subgraph refusing the field do. `in-place`: on
 * the field even when it is non-null, as Hive Gateway's generic auth does (it removes the field
 * from the operation and writes a null at its path into the result).
 */
export type DenialStyle = 'propagate' | 'in-place';

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
  /** `JSON.stringify` of the answer's `data`, keys in selection order; for a partial answer, keys sorted (see answers.ts). */
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

/** `JSON.stringify` with every object's keys sorted: where a gateway writes a refused field's null is its own choice. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item as Json).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : item,
  );
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
      // email is String!: propagated, its null lands on the nullable `user`.
      return { data: canonical({ user: style === 'in-place' ? { ...account, email: null } : null }), partial: true };
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
        // payment is nullable: its null stays on it in either style.
        return may(SCOPE_PAYMENTS) ? line : { ...line, payment: null };
      });
      const partial = !may(SCOPE_PAYMENTS) && history.length > 0;
      const answer = { user: { name: user.name, orders: history } };
      return { data: partial ? canonical(answer) : JSON.stringify(answer), partial };
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
    expected: { propagate: expectedData(operation, variables, user, data, 'propagate'), 'in-place': expectedData(operation, variables, user, data, 'in-place') },
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

/** The mix's shares, for the results. */
export const MIX_SHARES = MIX.map(([operation, share]) => `${operation.shape} ${Math.round(share * 100)}%`).join(', ');

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
    const random = seededRandom(seed + index);
    return { name: operation.shape, subgraphs: operation.subgraphs, calls: Array.from({ length: SEQUENCE_LENGTH }, () => randomCall(operation, data, random)) };
  });
  const random = seededRandom(seed + OPERATIONS.length);
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
