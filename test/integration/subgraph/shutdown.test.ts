/**
 * A subgraph's stop, as docs/subgraph-authors.md orders it: it leaves discovery first (so the gateway stops
 * routing to it) while its in-flight request is still running, then drains; a request still
 * running when SHUTDOWN_GRACE_MS ends is cut, at the grace.
 */
import { InMemoryDiscovery } from '@trellis/kit/testing';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { InMemoryEventBus } from '@trellis/kit/testing';
import { DevHubServer } from '@trellis/kit/internal/devhub';
import type { ServiceInstance } from '@trellis/kit';
import type { Subgraph, SubgraphFactory } from '@trellis/kit';
import { catalogSubgraph } from '../../../subgraphs/catalog';
import { postGraphQL } from '../../support/graphql';
import { startSubgraph } from '../../support/inProcess';

/** The catalog subgraph whose `product` resolver waits for `release` (and says when it started). */
function heldCatalog(started: () => void, release: Promise<void>): SubgraphFactory {
  return async (context) => {
    const options = await catalogSubgraph(context);
    const query = (options.resolvers as { Query: Record<string, (...args: unknown[]) => unknown> }).Query;
    const product = query.product;
    query.product = async (...args: unknown[]) => {
      started();
      await release;
      return product(...args);
    };
    return options;
  };
}

function barrier(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('subgraph stop', () => {
  let discovery: InMemoryDiscovery;
  let hub: DevHubServer;
  let hubUrl: string;
  beforeAll(async () => {
    discovery = new InMemoryDiscovery();
    hub = new DevHubServer({ targets: { discovery, state: new InMemoryStateStore(), events: new InMemoryEventBus() } });
    hubUrl = await hub.start();
  });
  afterAll(() => hub.stop());

  it('deregisters from discovery before it drains: the in-flight request finishes after the instance is gone', async () => {
    const events: string[] = [];
    const inFlight = barrier();
    const release = barrier();
    const subgraph: Subgraph = await startSubgraph(heldCatalog(inFlight.open, release.promise), { TRELLIS_DEVHUB_URL: hubUrl, SHUTDOWN_GRACE_MS: '10000' });
    let registered = false;
    const watch = await discovery.watch((instances: ServiceInstance[]) => {
      const present = instances.some((instance) => instance.url === subgraph.url);
      if (present) registered = true;
      if (registered && !present && !events.includes('deregistered')) {
        events.push('deregistered');
        release.open(); // the request may finish only once the instance has left discovery
      }
    });
    try {
      expect(registered).toBe(true);
      const answer = postGraphQL(subgraph.url, '{ product(id: "p2") { name } }').then((result) => (events.push('answered'), result));
      await inFlight.promise;
      await subgraph.stop();
      const result = await answer;
      expect(result.body.data).toEqual({ product: { name: 'Federation Hoodie' } });
      expect(events).toEqual(['deregistered', 'answered']);
    } finally {
      release.open();
      await watch.stop();
    }
  });

  it('cuts a request still running when SHUTDOWN_GRACE_MS ends, at the grace', async () => {
    const graceMs = 600;
    const inFlight = barrier();
    const never = barrier();
    const subgraph = await startSubgraph(heldCatalog(inFlight.open, never.promise), { TRELLIS_DEVHUB_URL: hubUrl, SHUTDOWN_GRACE_MS: String(graceMs) });
    try {
      const answer = postGraphQL(subgraph.url, '{ product(id: "p2") { name } }', { timeoutMs: 30_000 }).then(
        () => 'answered',
        () => 'cut',
      );
      await inFlight.promise;
      const started = performance.now();
      await subgraph.stop();
      const stopMs = performance.now() - started;
      expect(await answer).toBe('cut');
      process.stdout.write(`subgraph stop with a request past the grace: ${stopMs.toFixed(0)} ms (SHUTDOWN_GRACE_MS ${graceMs})\n`);
      expect(stopMs).toBeGreaterThanOrEqual(graceMs - 20);
      expect(stopMs).toBeLessThan(graceMs + 1000);
    } finally {
      never.open();
    }
  });
});
