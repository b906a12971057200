/**
 * `REDIS_CLUSTER_NODES=… KAFKA_BROKERS=… CONSUL_HTTP_ADDR=… npm start`: the example platform with
 * its state store on a (private, three-primary) Redis Cluster. Every participant's write commits
 * with its dedupe record in one hash slot, so placeOrder completes and a declined card is undone.
 */
import { startPlatform, type RunningPlatform } from '../support/platform';
import { postGraphQL, postGraphQLSse } from '../support/graphql';
import { platformToken } from '../support/identity';
import { privateCluster, type PrivateCluster } from '../support/privateRedisTopologies';

describe('platform with its state store on a Redis Cluster', () => {
  let cluster: PrivateCluster;
  let platform: RunningPlatform;
  let headers: Record<string, string>;

  beforeAll(async () => {
    cluster = await privateCluster();
    const nodes = cluster.topology.nodes.map(({ host, port }) => `${host}:${port}`).join(',');
    platform = await startPlatform({ backends: 'real', redisEnv: { REDIS_CLUSTER_NODES: nodes }, timeoutMs: 150_000 });
    headers = { authorization: `Bearer ${await platformToken(platform.base, 'u1')}` };
  }, 240_000);

  afterAll(async () => {
    if (platform) expect(await platform.stop()).toBe(0);
    await cluster?.stop();
  });

  const inStock = async (id: string) => {
    const { body } = await postGraphQL<{ product: { inStock: number } }>(platform.gatewayUrl, `{ product(id: "${id}") { inStock } }`);
    expect(body.errors).toBeUndefined();
    return body.data!.product.inStock;
  };

  /** Places an order and follows its sagaStatus to the end: every state seen, and the last event. */
  const order = async (items: string, paymentMethod: string) => {
    const { body } = await postGraphQL<{ placeOrder: { sagaId: string } }>(platform.gatewayUrl, `mutation { placeOrder(input: { items: [${items}], paymentMethod: "${paymentMethod}" }) { sagaId } }`, { headers });
    expect(body.errors).toBeUndefined();
    const id = body.data!.placeOrder.sagaId;
    const { events } = await postGraphQLSse(platform.gatewayUrl, `subscription { sagaStatus(id: "${id}") { state order { id status } } }`, { headers });
    expect(events.at(-1)?.event).toBe('complete');
    const next = events.filter((event) => event.event === 'next');
    expect(next.map((event) => event.data?.errors)).toEqual(next.map(() => undefined));
    return { id, last: next.at(-1)!.data.data.sagaStatus as { state: string; order: { id: string; status: string } | null } };
  };

  it('completes placeOrder: stock reserved once, the order listed for its user', async () => {
    const [p2, p3] = [await inStock('p2'), await inStock('p3')];
    const { last } = await order('{ productId: "p2", quantity: 1 }, { productId: "p3", quantity: 2 }', 'card-ok');

    expect(last).toMatchObject({ state: 'COMPLETED', order: { status: 'CONFIRMED' } });
    expect([await inStock('p2'), await inStock('p3')]).toEqual([p2 - 1, p3 - 2]);
    const { body } = await postGraphQL<{ user: { orders: Array<{ id: string; status: string }> } }>(platform.gatewayUrl, '{ user(id: "u1") { orders { id status } } }', { headers });
    expect(body.errors).toBeUndefined();
    expect(body.data!.user.orders).toContainEqual({ id: last.order!.id, status: 'CONFIRMED' });
  });

  it('undoes an order whose card is declined: the stock comes back', async () => {
    const before = await inStock('p1');
    const { last } = await order('{ productId: "p1", quantity: 3 }', 'card-declined');

    expect(last).toMatchObject({ state: 'COMPENSATED', order: null });
    expect(await inStock('p1')).toBe(before);
  });
});
