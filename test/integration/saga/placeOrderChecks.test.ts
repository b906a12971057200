/**
 * placeOrder checks in the right order, with the right identity: an idempotency key is looked up
 * before anything else, so a retry after the first order took the last unit gets the first saga
 * (not "not enough stock"); and the stock and prices are read from the catalog subgraph itself,
 * found through discovery (real Consul) and trusted by SUBGRAPH_ALLOW, as the caller, with no
 * gateway running at all.
 */
import type { Subgraph, SubgraphFactory, SubgraphContext } from '@trellis/kit';
import { connectBackends, createLogger } from '@trellis/kit';
import { loadConfig } from '@trellis/kit/internal/config';
import { catalogSubgraphOf } from '../../../subgraphs/catalog';
import { stockKey } from '../../../subgraphs/catalog/inventory';
import { sagasSubgraph } from '../../../subgraphs/sagas';
import { startSubgraph } from '../../support/inProcess';
import { startTestIdentity, type TestIdentity } from '../../support/identity';
import { realBackends, uniquePrefix } from '../../support/backends';
import { eventually, postGraphQL } from '../../support/graphql';

const SEED = [{ id: 'last', name: 'The Last Lamp', price: 5, inStock: 2 }];
const PLACE = 'mutation ($key: String, $quantity: Int!) { placeOrder(input: { items: [{ productId: "last", quantity: $quantity }], paymentMethod: "card-ok", idempotencyKey: $key }) { sagaId state } }';

/** The example catalog, noting who asked for each product. */
function recordingCatalog(callers: Array<string | null>): SubgraphFactory {
  return async (context) => {
    const options = await catalogSubgraphOf(SEED)(context);
    const query = options.resolvers.Query as Record<string, (...args: unknown[]) => unknown>;
    const product = query.product;
    query.product = (parent, args, ctx, info) => {
      callers.push((ctx as SubgraphContext).user?.id ?? null);
      return product(parent, args, ctx, info);
    };
    return options;
  };
}

describe('placeOrder: the idempotency key first, then the catalog asked directly as the caller', () => {
  let identity: TestIdentity;
  let catalog: Subgraph;
  let sagas: Subgraph;
  let env: Record<string, string>;
  const callers: Array<string | null> = [];
  let u1: Record<string, string>;

  beforeAll(async () => {
    identity = await startTestIdentity();
    const prefix = uniquePrefix('checks');
    env = {
      ...identity.env,
      CONSUL_HTTP_ADDR: realBackends.consulUrl,
      CONSUL_NAMESPACE: prefix,
      CONSUL_CHECK_INTERVAL: '300ms',
      REDIS_URL: realBackends.redisUrl,
      REDIS_KEY_PREFIX: `${prefix}:`,
      // Nothing listens here: a check that went through the gateway would fail.
      GATEWAY_URL: 'http://127.0.0.1:9/graphql',
    };
    catalog = await startSubgraph(recordingCatalog(callers), env);
    u1 = await identity.bearer('u1');
  });

  afterAll(async () => {
    await sagas?.stop();
    await catalog?.stop();
    await identity?.stop();
  });

  it('reads stock and prices from the catalog subgraph as the caller, with no gateway', async () => {
    sagas = await startSubgraph(sagasSubgraph(), env);
    // The catalog's registration reaches the sagas subgraph's discovery watch within a check interval or two.
    const placed = await eventually(async () => {
      const answer = await postGraphQL<{ placeOrder: { sagaId: string; state: string } }>(sagas.url, PLACE, { variables: { key: 'k-first', quantity: 2 }, headers: u1 });
      expect(answer.body.errors).toBeUndefined();
      return answer.body.data!.placeOrder;
    }, 15_000);
    expect(placed.state).toBe('RUNNING');
    expect(callers.length).toBeGreaterThan(0);
    expect(new Set(callers)).toEqual(new Set(['u1']));
  });

  it('a retry with the same key after the stock ran out gets the first saga; a new key is told there is none left', async () => {
    const first = await postGraphQL<{ placeOrder: { sagaId: string } }>(sagas.url, PLACE, { variables: { key: 'k-last', quantity: 2 }, headers: u1 });
    expect(first.body.errors).toBeUndefined();
    // What the first saga's reservation does: the last units are gone.
    const config = loadConfig({ REDIS_URL: env.REDIS_URL, REDIS_KEY_PREFIX: env.REDIS_KEY_PREFIX, LOG_LEVEL: 'silent' });
    const backends = await connectBackends(config, createLogger({ service: 'test', level: 'silent' }), { uses: ['state'] });
    try {
      const stock = await backends.state.getVersioned(stockKey('last'));
      expect(await backends.state.compareAndSet(stockKey('last'), stock!.version, JSON.stringify({ available: 0, reserved: 2 }))).not.toBeNull();
    } finally {
      await backends.close();
    }

    const retry = await postGraphQL<{ placeOrder: { sagaId: string } }>(sagas.url, PLACE, { variables: { key: 'k-last', quantity: 2 }, headers: u1 });
    expect(retry.body.errors).toBeUndefined();
    expect(retry.body.data!.placeOrder.sagaId).toBe(first.body.data!.placeOrder.sagaId);

    const fresh = await postGraphQL(sagas.url, PLACE, { variables: { key: 'k-new', quantity: 2 }, headers: u1 });
    expect(fresh.body.errors?.map((error) => [error.extensions?.code, error.message])).toEqual([['BAD_USER_INPUT', 'not enough stock for last: 0 left, 2 asked']]);
  });

  it('asks no catalog instance SUBGRAPH_ALLOW does not trust: a retriable SUBGRAPH_UNAVAILABLE, and the catalog never hears of it', async () => {
    const distrusting = await startSubgraph(sagasSubgraph(), { ...env, SUBGRAPH_ALLOW: 'catalog@10.0.0.0/8' });
    try {
      const before = callers.length;
      // Until its discovery has heard of the catalog it says none is registered; then, that none is trusted.
      const body = await eventually(async () => {
        const answer = await postGraphQL(distrusting.url, PLACE, { variables: { key: 'k-distrust', quantity: 1 }, headers: u1 });
        expect(answer.body.errors?.map((error) => [error.extensions?.code, error.extensions?.retriable, error.message])).toEqual([
          ['SUBGRAPH_UNAVAILABLE', true, 'no instance of subgraph catalog that SUBGRAPH_ALLOW trusts (1 refused)'],
        ]);
        return answer.body;
      }, 15_000);
      expect(body.data).toBeNull();
      expect(callers.length).toBe(before);
    } finally {
      await distrusting.stop();
    }
  });
});
