import { judge, explain } from '../../../bench/gateway/answers';
import { buildDataset } from '../../../bench/gateway/dataset';
import { ACCOUNT, ORDER_HISTORY, PRODUCT_PAGE, buildCall } from '../../../bench/gateway/operations';

const data = buildDataset();
const full = data.users.find((user) => user.scopes.length === 2)!;
const noEmail = data.users.find((user) => !user.scopes.includes('users:email'))!;
const noPayments = data.users.find((user) => !user.scopes.includes('payments:read'))!;

describe('judging an answer against its call', () => {
  const product = buildCall(PRODUCT_PAGE, { id: 'p7' }, full, data);
  const p7 = data.products[6];
  const body = (value: unknown) => JSON.stringify(value);

  it('takes the data the dataset holds for the variables, and nothing else', () => {
    const answer = { product: { id: 'p7', name: p7.name, price: p7.price, inStock: p7.inStock } };
    expect(judge(product, 'propagate', 200, body({ data: answer }))).toBe('ok');
    expect(judge(product, 'propagate', 200, body({ data: { product: { ...answer.product, inStock: p7.inStock + 1 } } }))).toBe('wrong');
    expect(judge(product, 'propagate', 200, body({ data: answer, errors: [{ message: 'x' }] }))).toBe('wrong');
    expect(judge(product, 'propagate', 500, body({ data: answer }))).toBe('wrong');
  });

  it('counts a refused non-null field as partial only where the target puts its null', () => {
    const account = buildCall(ACCOUNT, { id: noEmail.id }, noEmail, data);
    const orders = data.orders.filter((order) => order.userId === noEmail.id).map(({ id, total, status }) => ({ id, total, status }));
    const errors = [{ message: 'no', path: ['user', 'email'] }];
    const propagated = body({ errors, data: { user: null } });
    // Hive writes the null on the field itself, after the others.
    const inPlace = body({ data: { user: { id: noEmail.id, name: noEmail.name, orders, email: null } }, errors });
    expect(judge(account, 'propagate', 200, propagated)).toBe('partial');
    expect(judge(account, 'propagate', 200, inPlace)).toBe('wrong');
    expect(judge(account, 'in-place', 200, inPlace)).toBe('partial');
    expect(judge(account, 'propagate', 200, body({ data: { user: null } }))).toBe('wrong');
  });

  it('expects payment nulls and errors for a caller without payments:read, the full history otherwise', () => {
    const refused = buildCall(ORDER_HISTORY, { id: noPayments.id }, noPayments, data);
    const allowed = buildCall(ORDER_HISTORY, { id: full.id }, full, data);
    expect(refused.expected.propagate.partial).toBe(true);
    expect(refused.expected.propagate.data).not.toContain('"state"');
    expect(allowed.expected.propagate.partial).toBe(false);
    expect(allowed.expected.propagate.data).toContain('"state"');
    expect(explain(allowed, 'propagate', 200, { data: JSON.parse(allowed.expected.propagate.data) })).toBeUndefined();
    expect(explain(allowed, 'propagate', 200, { data: JSON.parse(allowed.expected.propagate.data), errors: [{}] })).toMatch(/unexpected errors/);
  });
});

describe('the bench dataset', () => {
  it('has 200 users with their own ids, one in ten without each protected scope, and orders for everyone', () => {
    expect(new Set(data.users.map((user) => user.id)).size).toBe(200);
    expect(data.users.filter((user) => !user.scopes.includes('users:email'))).toHaveLength(20);
    expect(data.users.filter((user) => !user.scopes.includes('payments:read'))).toHaveLength(20);
    for (const user of data.users) expect(data.orders.some((order) => order.userId === user.id)).toBe(true);
  });

  it('refers only to products and orders it holds, orders newest first', () => {
    const products = new Set(data.products.map((product) => product.id));
    for (const order of data.orders) for (const item of order.items) expect(products.has(item.productId)).toBe(true);
    const orders = new Set(data.orders.map((order) => order.id));
    for (const payment of data.payments) expect(orders.has(payment.orderId)).toBe(true);
    for (const user of data.users.slice(0, 10)) {
      const dates = data.orders.filter((order) => order.userId === user.id).map((order) => order.createdAt);
      expect(dates).toEqual([...dates].sort().reverse());
    }
  });
});
