/** One of two catalog instances killed under load: after its ejection, no request fails. */
import { ChaosCluster, runLoad } from '../support/chaos';
import { metricValue } from '../support/metrics';
import { eventually, postGraphQL, type GraphQLResult } from '../support/graphql';
import { startGateway, type InProcessGateway } from '../support/inProcess';

const QUERY = '{ products(first: 3) { id name inStock } }';

describe('chaos: one of two instances killed under load', () => {
  let cluster: ChaosCluster;
  let gateway: InProcessGateway;

  afterAll(async () => {
    await gateway?.stop();
    await cluster?.stop();
  });

  it('ejects the dead instance and serves every request from the other', async () => {
    // Health checks far apart, so the gateway's own outlier ejection is what takes the dead instance out.
    cluster = await new ChaosCluster(60_000).start();
    const [first] = await Promise.all([cluster.startSubgraph('catalog'), cluster.startSubgraph('catalog')]);
    gateway = await startGateway({ TRELLIS_DEVHUB_URL: cluster.hubUrl, OUTLIER_CONSECUTIVE_FAILURES: '2', OUTLIER_BASE_EJECTION_MS: '10000' });
    await eventually(async () => expect((await postGraphQL(gateway.url, QUERY)).body.errors).toBeUndefined(), 15_000);

    const load = runLoad(() => postGraphQL(gateway.url, QUERY, { timeoutMs: 5000 }), { durationMs: 5000, concurrency: 4 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const killedAt = Date.now();
    await first.kill();
    const samples = await load;

    const failed = (sample: (typeof samples)[number]) => {
      const result = sample.result as GraphQLResult | undefined;
      return !result || result.status !== 200 || result.body.errors !== undefined;
    };
    const ejected = await metricValue(`${gateway.server.admin.url}/metrics`, 'trellis_subgraph_ejected_instances', { subgraph: 'catalog' });
    const failures = samples.filter(failed);
    // A retry on the other instance covers the requests caught in the kill itself.
    const afterEjection = samples.filter((sample) => sample.at > killedAt + 500);
    expect(samples.length).toBeGreaterThan(50);
    expect(afterEjection.filter(failed)).toEqual([]);
    expect(failures.length).toBeLessThanOrEqual(2);
    expect(ejected).toBe(1);
  });
});
