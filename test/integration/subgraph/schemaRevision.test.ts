/**
 * The kit registers every instance with a schema revision (a digest of its schema), so a gateway
 * can tell a redeploy with a new schema on the same host and port from a restart of the same one.
 */
import { InMemoryDiscovery, SCHEMA_REVISION_META, type ServiceInstance } from '@trellis/kit/internal/discovery';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { InMemoryEventBus } from '@trellis/kit/testing';
import { DevHubServer } from '@trellis/kit/internal/devhub';
import type { SubgraphFactory } from '@trellis/kit';
import { FEDERATION_LINK } from '../../../subgraphs/federation';
import { startSubgraph } from '../../support/inProcess';

const subgraphOwning = (field: string): SubgraphFactory => () => ({
  name: 'revised',
  typeDefs: `${FEDERATION_LINK} type Query { ${field}: String }`,
  resolvers: { Query: { [field]: () => 'x' } },
});

describe('schema revision in discovery', () => {
  let discovery: InMemoryDiscovery;
  let hub: DevHubServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    discovery = new InMemoryDiscovery();
    hub = new DevHubServer({ targets: { discovery, state: new InMemoryStateStore(), events: new InMemoryEventBus() } });
    env = { TRELLIS_DEVHUB_URL: await hub.start() };
  });
  afterAll(() => hub.stop());

  const registered = async (): Promise<ServiceInstance[]> => {
    let seen: ServiceInstance[] = [];
    const watch = await discovery.watch((instances) => (seen = instances));
    await watch.stop();
    return seen.filter((instance) => instance.name === 'revised');
  };

  it('is the same for the same schema and changes with the schema', async () => {
    const revisionOf = async (factory: SubgraphFactory) => {
      const subgraph = await startSubgraph(factory, env);
      try {
        const [instance] = await registered();
        return instance.meta[SCHEMA_REVISION_META];
      } finally {
        await subgraph.stop();
      }
    };
    const first = await revisionOf(subgraphOwning('a'));
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(await revisionOf(subgraphOwning('a'))).toBe(first);
    expect(await revisionOf(subgraphOwning('b'))).not.toBe(first);
  });
});
