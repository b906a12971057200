/**
 * One subgraph killed under steady load: the rest of the graph keeps answering, queries touching
 * it get partial data with SUBGRAPH_UNAVAILABLE within the breaker timeout, its breaker opens, and
 * full answers return once it is back.
 */
import { ChaosCluster, runLoad, type SubgraphProcess } from '../support/chaos';
import { metricValue } from '../support/metrics';
import { eventually, postGraphQL, type GraphQLResult } from '../support/graphql';
import { startGateway, type InProcessGateway } from '../support/inProcess';

const UNTOUCHED = '{ product(id: "p1") { name } users { id } }';
const TOUCHING = '{ user(id: "u1") { name orders { total payment { state } } } }';
const BREAKER_TIMEOUT_MS = 1000;

describe('chaos: a subgraph killed under load', () => {
  let cluster: ChaosCluster;
  let gateway: InProcessGateway;
  let payments: SubgraphProcess;
  // Order.payment needs the payments:read scope.
  let reader: { authorization: string };

  beforeAll(async () => {
    cluster = await new ChaosCluster().start();
    await Promise.all(['users', 'catalog', 'orders'].map((name) => cluster.startSubgraph(name)));
    payments = await cluster.startSubgraph('payments');
    reader = await cluster.identity.bearer('u1', ['payments:read']);
    gateway = await startGateway({
      ...cluster.identity.env,
      TRELLIS_DEVHUB_URL: cluster.hubUrl,
      BREAKER_TIMEOUT_MS: String(BREAKER_TIMEOUT_MS),
      BREAKER_RESET_TIMEOUT_MS: '1000',
      BREAKER_VOLUME_THRESHOLD: '3',
    });
    await eventually(async () => expect((await postGraphQL(gateway.url, TOUCHING, { headers: reader })).body.errors).toBeUndefined(), 15_000);
  });

  afterAll(async () => {
    await gateway?.stop();
    await cluster?.stop();
  });

  const query = (q: string) => () => postGraphQL(gateway.url, q, { timeoutMs: 5000, headers: reader });
  const metricsUrl = () => `${gateway.server.admin.url}/metrics`;

  it('keeps the rest of the graph whole, degrades what touches it, opens its breaker, and recovers', async () => {
    await payments.kill();
    const [untouched, touching] = await Promise.all([
      runLoad(query(UNTOUCHED), { durationMs: 3000, concurrency: 3 }),
      runLoad(query(TOUCHING), { durationMs: 3000, concurrency: 3 }),
    ]);

    // Queries that do not touch payments: 100% success, no errors.
    expect(untouched.length).toBeGreaterThan(20);
    for (const sample of untouched) {
      const result = sample.result as GraphQLResult;
      expect(result.status).toBe(200);
      expect(result.body.errors).toBeUndefined();
      expect(result.body.data).toEqual({ product: { name: 'Trellis Mug' }, users: [{ id: 'u1' }, { id: 'u2' }, { id: 'u3' }] });
    }

    // Queries that touch payments: HTTP 200, the other subgraphs' data, payment null, the error, in time.
    expect(touching.length).toBeGreaterThan(10);
    for (const sample of touching) {
      const result = sample.result as GraphQLResult<{ user: { name: string; orders: Array<{ total: number; payment: unknown }> } }>;
      expect(result.status).toBe(200);
      expect(result.body.data?.user.name).toBe('Ada Lovelace');
      expect(result.body.data?.user.orders.map((order) => order.payment)).toEqual([null, null]);
      expect(result.body.errors?.[0].extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'payments' });
      expect(sample.latencyMs).toBeLessThan(BREAKER_TIMEOUT_MS + 500);
    }
    const reasons = new Set(touching.map((s) => (s.result as GraphQLResult).body.errors?.[0].extensions?.reason));
    expect([...reasons].every((reason) => ['connection_failed', 'no_instance', 'breaker_open'].includes(reason as string))).toBe(true);
    expect(await metricValue(metricsUrl(), 'trellis_breaker_transitions_total', { breaker: 'payments', to: 'open' })).toBeGreaterThanOrEqual(1);
    expect(await metricValue(metricsUrl(), 'trellis_breaker_calls_total', { breaker: 'payments', outcome: 'rejected' })).toBeGreaterThan(0);

    // Back: the breaker closes and full answers return.
    payments = await cluster.startSubgraph('payments');
    await eventually(async () => {
      const { body } = await postGraphQL(gateway.url, TOUCHING, { headers: reader });
      expect(body.errors).toBeUndefined();
      expect(body.data).toEqual({ user: { name: 'Ada Lovelace', orders: [{ total: 54, payment: { state: 'CAPTURED' } }, { total: 29.99, payment: { state: 'CAPTURED' } }] } });
    }, 15_000, 200);
    expect(await metricValue(metricsUrl(), 'trellis_breaker_state', { breaker: 'payments' })).toBe(0);
  });
});
