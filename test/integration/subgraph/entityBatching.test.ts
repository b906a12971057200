/**
 * One `_entities` call with N representations is one state-store read, not N: the example
 * subgraphs resolve references through the kit's `requestLoader`, which batches every
 * `__resolveReference` of the call into one `getVersionedMany`. Counted at the state-store port,
 * over a real HTTP request to the subgraph's port.
 */
import { loadConfig } from '@trellis/kit';
import { createLogger } from '@trellis/kit';
import { connectBackends, type Backends } from '@trellis/kit';
import { createGuard } from '@trellis/kit';
import { createMetricsRegistry } from '@trellis/kit';
import { createSubgraph, type Subgraph, type SubgraphFactory } from '@trellis/kit';
import type { StateStore } from '@trellis/kit';
import { catalogSubgraph } from '../../../subgraphs/catalog';
import { ordersSubgraph } from '../../../subgraphs/orders';
import { postGraphQL } from '../../support/graphql';

/** The store with a count of each method's calls. */
function counted(store: StateStore): { store: StateStore; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        calls.set(property, (calls.get(property) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

const N = 60;
const config = loadConfig({ LOG_LEVEL: 'silent' });
const logger = createLogger({ service: 'test', level: 'silent' });

describe.each([
  ['catalog', catalogSubgraph, 'Product', ['p1', 'p2', 'p3', 'p4', 'p5'], 'name inStock'],
  ['orders', ordersSubgraph, 'Order', ['o1', 'o2', 'o3'], 'id'],
] as Array<[string, SubgraphFactory, string, string[], string]>)('%s: one _entities call is one state-store read', (_name, factory, type, ids, selection) => {
  let backends: Backends;
  let subgraph: Subgraph;
  let calls: Map<string, number>;

  beforeAll(async () => {
    const connected = await connectBackends(config, logger);
    const state = counted(connected.state);
    calls = state.calls;
    backends = { ...connected, state: state.store };
    const registry = createMetricsRegistry('test');
    const options = await factory({ config, logger, backends, guard: createGuard({ registry, logger }), registry, announceChange: (changes) => subgraph.announceChange(changes) });
    subgraph = createSubgraph({ ...options, config, logger, backends, registry });
    await subgraph.start();
  });

  afterAll(async () => {
    await subgraph?.stop();
    await backends?.close();
  });

  it(`${N} representations (known, unknown and repeated ids): one getVersionedMany, no single read`, async () => {
    const representations = Array.from({ length: N }, (_, i) => ({ __typename: type, id: i < ids.length * 2 ? ids[i % ids.length] : `missing-${i}` }));
    calls.clear();
    const { status, body } = await postGraphQL(subgraph.url, `query ($r: [_Any!]!) { _entities(representations: $r) { ... on ${type} { ${selection} } } }`, {
      variables: { r: representations },
    });
    expect(status).toBe(200);
    const entities = body.data?._entities as unknown[];
    expect(entities).toHaveLength(N);
    // Every known id is answered wherever it appears (orders withhold theirs from an anonymous caller: FORBIDDEN, after the read).
    if (type === 'Product') expect(entities.slice(0, ids.length * 2)).toEqual(Array.from({ length: ids.length * 2 }, () => expect.objectContaining({ name: expect.any(String), inStock: expect.any(Number) })));
    else expect(body.errors?.map((error) => error.extensions?.code)).toEqual(Array.from({ length: ids.length * 2 }, () => 'FORBIDDEN'));
    expect(entities.slice(ids.length * 2)).toEqual(Array.from({ length: N - ids.length * 2 }, () => null));
    expect(Object.fromEntries(calls)).toEqual({ getVersionedMany: 1 });
  });
});
