/** `CONSUL_HTTP_ADDR=… REDIS_URL=… KAFKA_BROKERS=… npm start`: the platform on the real servers. */
import { startPlatform, type RunningPlatform } from '../support/platform';
import { PLACE_ORDER_STAGES, sagaStage, WATCHABLE_SAGAS } from '../support/sagaStates';
import { eventually, postGraphQL, postGraphQLSse } from '../support/graphql';
import { startGateway } from '../support/inProcess';
import { platformToken } from '../support/identity';
import { realBackends } from '../support/backends';

describe('platform on Consul, Redis and Kafka', () => {
  let platform: RunningPlatform;

  beforeAll(async () => {
    // Steps pause, so the watcher sees the saga before its first step moves, and then every change.
    platform = await startPlatform({ backends: 'real', env: WATCHABLE_SAGAS });
  });

  afterAll(async () => {
    expect(await platform.stop()).toBe(0);
  });

  it('answers the four-subgraph query', async () => {
    const { body } = await postGraphQL(
      platform.gatewayUrl,
      '{ user(id: "u1") { name orders { total status items { quantity product { name inStock } } payment { state } } } }',
      { headers: { authorization: `Bearer ${await platformToken(platform.base, 'u1', ['payments:read'])}` } },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data).toMatchObject({ user: { name: 'Ada Lovelace', orders: [{ total: 54, payment: { state: 'CAPTURED' } }, { total: 29.99 }] } });
  });

  it('lists every subgraph in Consul with a passing check', async () => {
    for (const name of ['users', 'catalog', 'orders', 'payments']) {
      const entries = (await (await fetch(`${realBackends.consulUrl}/v1/health/service/${name}`)).json()) as Array<{
        Service: { ID: string; Tags: string[]; Port: number };
        Checks: Array<{ Status: string; ServiceID: string }>;
      }>;
      const ours = entries.filter((entry) => entry.Service.Port > platform.base && entry.Service.Port < platform.base + 10);
      expect(ours).toHaveLength(1);
      expect(ours[0].Service.Tags).toContain(`trellis-subgraph@${platform.backendEnv.CONSUL_NAMESPACE}`);
      expect(ours[0].Checks.filter((check) => check.ServiceID === ours[0].Service.ID).map((check) => check.Status)).toEqual(['passing']);
    }
  });

  it('runs placeOrder on Kafka and Redis, watched through a second gateway instance', async () => {
    const headers = { authorization: `Bearer ${await platformToken(platform.base, 'u1')}` };
    const second = await startGateway({ ...platform.backendEnv, AUTH_ISSUER: `http://127.0.0.1:${platform.base + 400}` });
    try {
      await eventually(async () => expect((await postGraphQL(second.url, '{ products(first: 1) { id } }')).body.errors).toBeUndefined(), 20_000);
      const { body } = await postGraphQL<{ placeOrder: { sagaId: string } }>(
        platform.gatewayUrl,
        'mutation { placeOrder(input: { items: [{ productId: "p2", quantity: 1 }], paymentMethod: "card-ok" }) { sagaId } }',
        { headers },
      );
      expect(body.errors).toBeUndefined();
      const id = body.data!.placeOrder.sagaId;
      const { events } = await postGraphQLSse(second.url, `subscription { sagaStatus(id: "${id}") { state steps { state } order { status } } }`, { headers });
      const next = events.filter((e) => e.event === 'next');
      // Every event: `next` without errors, then one complete; every stage in order (each change crossed
      // to the second gateway's subgraph connection), ending COMPLETED with the order.
      expect(events.map((e) => [e.event, e.data?.errors])).toEqual([...next.map(() => ['next', undefined]), ['complete', undefined]]);
      expect(next.map((e) => sagaStage(e.data.data.sagaStatus))).toEqual(PLACE_ORDER_STAGES.completed);
      expect(next.at(-1)!.data.data.sagaStatus.order).toEqual({ status: 'CONFIRMED' });
    } finally {
      await second.stop();
    }
  });
});
