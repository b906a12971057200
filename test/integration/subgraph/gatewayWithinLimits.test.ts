/**
 * What the gateway's limits allow, its subgraphs' own limits allow too: queries at the gateway's
 * alias limit and near its cost limit, sent through a real gateway to the example subgraphs (each
 * running the kit's limits), are answered in full, with the subgraph fetches (`_entities` of
 * orders and products, through two hops) accepted. Limits on both sides are the defaults.
 */
import { getOperationAST, parse } from 'graphql';
import { loadConfig } from '@trellis/kit';
import { measureOperation } from '@trellis/kit/internal/limits';
import { typeDefs as usersSdl } from '../../../subgraphs/users';
import { typeDefs as ordersSdl } from '../../../subgraphs/orders';
import { typeDefs as catalogSdl } from '../../../subgraphs/catalog';
import { plannerFor } from '../../support/planner/plan';
import { startStaticPlatform, type StaticPlatform } from '../../support/staticPlatform';
import { startTestIdentity, type TestIdentity } from '../../support/identity';
import { postGraphQL } from '../../support/graphql';

const limits = loadConfig({}).limits;

describe("the gateway's allowed traffic passes its subgraphs' own limits", () => {
  let identity: TestIdentity;
  let platform: StaticPlatform;

  beforeAll(async () => {
    identity = await startTestIdentity();
    platform = await startStaticPlatform(identity.env, {}, identity.env);
  });

  afterAll(async () => {
    await platform?.stop();
    await identity?.stop();
  });

  const aliases = Array.from({ length: limits.maxAliases }, (_, i) => `a${i}: name`).join(' ');
  const query = `{ me { orders { id items { quantity product { ${aliases} } } } } }`;

  it('every alias the gateway allows and over half its cost, in the catalog _entities fetch two hops away', async () => {
    const { schema } = plannerFor([
      { name: 'users', typeDefs: usersSdl },
      { name: 'orders', typeDefs: ordersSdl },
      { name: 'catalog', typeDefs: catalogSdl },
    ]);
    const document = parse(query);
    const measure = measureOperation(schema, document, getOperationAST(document)!, { defaultListSize: limits.defaultListSize });
    // At the gateway's limits, not past them.
    expect(measure.aliases).toBe(limits.maxAliases);
    expect(measure.cost).toBeLessThanOrEqual(limits.maxCost);
    expect(measure.cost).toBeGreaterThan(limits.maxCost / 2);
    const fetchesBefore = await platform.subgraphFetches();
    const { status, body } = await postGraphQL(platform.url, query, { headers: await identity.bearer('u1') });
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    const orders = (body.data as { me: { orders: Array<{ items: Array<{ product: Record<string, unknown> }> }> } }).me.orders;
    expect(orders.length).toBeGreaterThan(0);
    for (const order of orders) for (const item of order.items) expect(item.product).toEqual(expect.objectContaining({ a0: expect.any(String), [`a${limits.maxAliases - 1}`]: expect.any(String) }));
    // users, then orders' _entities, then catalog's _entities.
    expect((await platform.subgraphFetches()) - fetchesBefore).toBe(3);
  });
});
