/** Consul goes away under a running gateway: the last good supergraph keeps serving; changes resume after. */
import { catalogSubgraph } from '../../../subgraphs/catalog';
import { usersSubgraph } from '../../../subgraphs/users';
import { eventually, postGraphQL } from '../../support/graphql';
import { privateConsul, type PrivateServer } from '../../support/privateServers';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import type { Subgraph } from '@trellis/kit';

describe('gateway on Consul when Consul stops and returns', () => {
  let consul: PrivateServer;
  let gateway: InProcessGateway;
  const subgraphs: Subgraph[] = [];

  beforeAll(async () => {
    consul = await privateConsul();
    await consul.start();
  });

  afterAll(async () => {
    for (const subgraph of subgraphs) await subgraph.stop().catch(() => undefined);
    await gateway?.stop();
    await consul.kill();
  });

  it('keeps serving while Consul is down and picks up changes again when it returns', async () => {
    const env = { CONSUL_HTTP_ADDR: consul.url };
    subgraphs.push(await startSubgraph(catalogSubgraph, env));
    gateway = await startGateway(env);
    const products = '{ product(id: "p2") { name price } }';
    await eventually(async () => expect((await postGraphQL(gateway.url, products)).body.data).toEqual({ product: { name: 'Federation Hoodie', price: 54 } }), 10_000);

    await consul.kill();
    for (let i = 0; i < 20; i++) {
      const { status, body } = await postGraphQL(gateway.url, products);
      expect(status).toBe(200);
      expect(body.data).toEqual({ product: { name: 'Federation Hoodie', price: 54 } });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // A fresh dev agent knows nothing: the subgraph registers itself again, the gateway, elected again, publishes
    // the supergraph it serves to the empty KV, and a new subgraph shows up.
    await consul.start();
    await eventually(async () => {
      const published = await fetch(`${consul.url}/v1/kv/trellis/supergraph/current?raw`);
      expect(((await published.json()) as { hash: string }).hash).toBe(gateway.server.options.source.status().hash);
    }, 20_000, 200);
    subgraphs.push(await startSubgraph(usersSubgraph, env));
    await eventually(async () => {
      const { body } = await postGraphQL(gateway.url, '{ user(id: "u3") { name } product(id: "p1") { name } }');
      expect(body.data).toEqual({ user: { name: 'Alan Turing' }, product: { name: 'Trellis Mug' } });
    }, 20_000, 200);
  });
});
