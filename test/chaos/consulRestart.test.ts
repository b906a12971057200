/** Consul restarted under load: no schema loss, and no request fails because of it. */
import { privateConsul, type PrivateServer } from '../support/privateServers';
import { runLoad } from '../support/chaos';
import { eventually, postGraphQL, type GraphQLResult } from '../support/graphql';
import { startGateway, startSubgraph, type InProcessGateway } from '../support/inProcess';
import { usersSubgraph } from '../../subgraphs/users';
import { catalogSubgraph } from '../../subgraphs/catalog';
import type { Subgraph } from '@trellis/kit';

const QUERY = '{ user(id: "u2") { name } product(id: "p4") { name } }';

describe('chaos: Consul restarted under load', () => {
  let consul: PrivateServer;
  let gateway: InProcessGateway;
  const subgraphs: Subgraph[] = [];

  afterAll(async () => {
    for (const subgraph of subgraphs) await subgraph.stop().catch(() => undefined);
    await gateway?.stop();
    await consul?.kill();
  });

  it('keeps the schema and every request whole', async () => {
    consul = await privateConsul();
    await consul.start();
    const env = { CONSUL_HTTP_ADDR: consul.url };
    subgraphs.push(await startSubgraph(usersSubgraph, env), await startSubgraph(catalogSubgraph, env));
    gateway = await startGateway(env);
    await eventually(async () => expect((await postGraphQL(gateway.url, QUERY)).body.errors).toBeUndefined(), 15_000);
    const hashBefore = gateway.server.options.source.status().hash;

    const load = runLoad(() => postGraphQL(gateway.url, QUERY, { timeoutMs: 5000 }), { durationMs: 8000, concurrency: 3 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await consul.kill();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await consul.start();
    const samples = await load;

    expect(samples.length).toBeGreaterThan(50);
    for (const sample of samples) {
      const result = sample.result as GraphQLResult;
      expect(result.status).toBe(200);
      expect(result.body).toEqual({ data: { user: { name: 'Grace Hopper' }, product: { name: 'Saga Notebook' } } });
    }
    expect(gateway.server.options.source.status().hash).toBe(hashBefore);
  });
});
