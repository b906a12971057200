/** On stop, the gateway refuses new work, lets in-flight requests finish, then closes. */
import { InMemoryDiscovery } from '@trellis/kit/testing';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { InMemoryEventBus } from '@trellis/kit/testing';
import { catalogSubgraph } from '../../../subgraphs/catalog';
import { postGraphQL, eventually } from '../../support/graphql';
import { DevHubServer } from '@trellis/kit/internal/devhub';
import { startGateway, startSubgraph } from '../../support/inProcess';

describe('gateway graceful shutdown', () => {
  it('finishes an in-flight request during stop', async () => {
    const hub = new DevHubServer({ targets: { discovery: new InMemoryDiscovery(), state: new InMemoryStateStore(), events: new InMemoryEventBus() } });
    const hubUrl = await hub.start();
    // Resolves when the slow resolver is entered: the request is in flight at the subgraph.
    let entered!: () => void;
    const inResolver = new Promise<void>((resolve) => (entered = resolve));
    const catalog = await startSubgraph(async (context) => {
      const options = await catalogSubgraph(context);
      const query = (options.resolvers as { Query: Record<string, (...args: unknown[]) => unknown> }).Query;
      const product = query.product;
      query.product = async (...args: unknown[]) => {
        entered();
        await new Promise((resolve) => setTimeout(resolve, 800));
        return product(...args);
      };
      return options;
    }, { TRELLIS_DEVHUB_URL: hubUrl });
    const gateway = await startGateway({ TRELLIS_DEVHUB_URL: hubUrl, SHUTDOWN_GRACE_MS: '5000' });
    try {
      await eventually(async () => expect((await postGraphQL(gateway.url, '{ products(first: 1) { id } }')).body.errors).toBeUndefined(), 10_000);
      const inFlight = postGraphQL(gateway.url, '{ product(id: "p2") { name } }');
      await inResolver;
      const stopped = gateway.stop();
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(answer.body.data).toEqual({ product: { name: 'Federation Hoodie' } });
      await stopped;
      await expect(postGraphQL(gateway.url, '{ products { id } }', { timeoutMs: 1000 })).rejects.toThrow();
    } finally {
      await catalog.stop();
      await hub.stop();
    }
  });
});
