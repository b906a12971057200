/**
 * Partial answers that help: with catalog killed (SIGKILL, the real process), a query across users,
 * orders and catalog still answers the user and their orders; only each `product` is null, with an
 * error for its path. References into another subgraph are nullable in the example schemas for this.
 */
import { startPlatform, type RunningPlatform } from '../support/platform';
import { eventually, postGraphQL, type GraphQLResult } from '../support/graphql';
import { platformToken } from '../support/identity';

const USER_ORDERS_PRODUCTS = `{ user(id: "u1") { name orders { id items { quantity product { name } } } } }`;

type Answer = GraphQLResult<{ user: { name: string; orders: Array<{ id: string; items: Array<{ quantity: number; product: { name: string } | null }> }> } | null }>;

describe('partial answers (npm start, catalog killed)', () => {
  let platform: RunningPlatform;
  let owner: { authorization: string };

  beforeAll(async () => {
    platform = await startPlatform();
    owner = { authorization: `Bearer ${await platformToken(platform.base, 'u1')}` };
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('answers the user and orders whole while catalog runs', async () => {
    const { body } = (await postGraphQL(platform.gatewayUrl, USER_ORDERS_PRODUCTS, { headers: owner })) as Answer;
    expect(body.errors).toBeUndefined();
    expect(body.data?.user?.orders.flatMap((order) => order.items.map((item) => item.product?.name))).toEqual(['Federation Hoodie', 'Trellis Mug', 'Circuit Breaker Sticker Pack']);
  });

  it('keeps the user and orders with catalog down: product null, and an error naming catalog at each product path', async () => {
    await platform.killService('catalog');
    // The gateway notices the dead instance on its first call (connection refused), or later from discovery: no instance.
    const { status, body } = await eventually(async () => {
      const answer = (await postGraphQL(platform.gatewayUrl, USER_ORDERS_PRODUCTS, { headers: owner })) as Answer;
      expect(answer.body.errors?.length).toBeGreaterThan(0);
      return answer;
    }, 10_000);
    expect(status).toBe(200);
    expect(body.data).toEqual({
      user: {
        name: 'Ada Lovelace',
        orders: [
          { id: 'o2', items: [{ quantity: 1, product: null }] },
          {
            id: 'o1',
            items: [
              { quantity: 2, product: null },
              { quantity: 1, product: null },
            ],
          },
        ],
      },
    });
    expect(body.errors?.[0].extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'catalog' });
    const paths = (body.errors ?? []).map((error) => (error.path ?? []).join('.'));
    // One error per product the catalog was asked for, at where that product sits in the answer.
    expect(paths).toEqual(['user.orders.0.items.0.product', 'user.orders.1.items.0.product', 'user.orders.1.items.1.product']);
  });
});
