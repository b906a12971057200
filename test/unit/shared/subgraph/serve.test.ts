/** launchSubgraph: what a subgraph's main.ts gets (config, logger, backends, guard, registry), and a stop that undoes it all. */
import { loadConfig } from '@trellis/kit/internal/config';
import { launchSubgraph, type ServeContext } from '@trellis/kit/internal/subgraph/serve';
import type { ServiceInstance } from '@trellis/kit/internal/discovery';
import { recordingLogger } from '../../../support/recordingLogger';
import { FEDERATION_LINK } from '../../../../subgraphs/federation';
import { ENTITY_CHANGES_TOPIC, decodeEntityChange, type EntityChange } from '@trellis/kit/internal/events';
import { eventually } from '../../../support/graphql';

const typeDefs = `${FEDERATION_LINK} type Query { hello: String }`;

describe('launchSubgraph', () => {
  it('builds the subgraph from its factory on connected backends, starts it, and stops it', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', SERVICE_NAME: 'greeter', SHUTDOWN_GRACE_MS: '500' });
    const { logger, lines } = recordingLogger();
    let given: ServeContext | undefined;
    const { subgraph, stop } = await launchSubgraph(
      (context) => {
        given = context;
        return {
          name: 'greeter',
          typeDefs,
          resolvers: { Query: { hello: () => `hello from ${context.config.serviceName}` } },
        };
      },
      config,
      logger,
    );
    try {
      expect(given?.config).toBe(config);
      expect(given?.logger).toBe(logger);
      expect(subgraph.registry).toBe(given?.registry);
      await expect(given!.guard('downstream', async () => 'guarded')()).resolves.toBe('guarded');
      let seen: ServiceInstance[] = [];
      const watch = await given!.backends.discovery.watch((instances) => (seen = instances));
      expect(seen.map((instance) => instance.name)).toEqual(['greeter']);
      await watch.stop();

      const response = await fetch(subgraph.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ hello }' }),
      });
      expect(await response.json()).toEqual({ data: { hello: 'hello from greeter' } });
      // The guard's breaker shows on this subgraph's /metrics.
      expect(await (await fetch(subgraph.url.replace('/graphql', '/metrics'))).text()).toMatch(
        /trellis_breaker_state\{breaker="downstream",kind="guard",service="greeter"\} 0/,
      );
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'subgraph greeter serving', service: 'greeter' }));
    } catch (error) {
      await stop();
      throw error;
    }
    const { url } = subgraph;
    await stop();
    await expect(fetch(url, { method: 'POST' })).rejects.toThrow();
  });

  const metricsOf = async (env: Record<string, string>) => {
    const config = loadConfig({ LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: '500', ...env });
    const { subgraph, stop } = await launchSubgraph(() => ({ name: 'greeter', typeDefs, resolvers: { Query: { hello: () => 'hi' } } }), config, recordingLogger().logger);
    try {
      const response = await fetch(subgraph.url.replace('/graphql', '/metrics'), { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
      return { contentType: response.headers.get('content-type'), text: await response.text() };
    } finally {
      await stop();
    }
  };

  it("labels its metrics service=\"subgraph\" when SERVICE_NAME is unset, and offers OpenMetrics (exemplars) only with tracing on", async () => {
    const untraced = await metricsOf({});
    expect(untraced.text).toMatch(/trellis_process_nodejs_version_info\{[^}]*service="subgraph"\} 1/);
    expect(untraced.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const traced = await metricsOf({ SERVICE_NAME: 'greeter', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
    expect(traced.contentType).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
  });

  it('gives the factory announceChange: a resolver announces after its write, published on the bus with the subgraph as source and counted on /metrics', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: '500' });
    const prices = new Map([['p1', 10]]);
    let context: ServeContext | undefined;
    const { subgraph, stop } = await launchSubgraph(
      (given) => {
        context = given;
        return {
          name: 'pricing',
          typeDefs: `${FEDERATION_LINK} type Query { price(id: ID!): Float } type Mutation { setPrice(id: ID!, price: Float!): Float }`,
          resolvers: {
            Query: { price: (_: unknown, { id }: { id: string }) => prices.get(id) },
            Mutation: {
              setPrice: async (_: unknown, { id, price }: { id: string; price: number }) => {
                prices.set(id, price);
                await given.announceChange({ type: 'Product', key: { id }, fields: ['price'] });
                return price;
              },
            },
          },
        };
      },
      config,
      recordingLogger().logger,
    );
    try {
      const changes: EntityChange[] = [];
      const feed = await context!.backends.events.subscribe({ groupId: 'feed', topics: [ENTITY_CHANGES_TOPIC], handler: async (m) => void changes.push(decodeEntityChange(m.value)) });
      const before = Date.now();
      const response = await fetch(subgraph.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'mutation { setPrice(id: "p1", price: 12) }' }) });
      expect(await response.json()).toEqual({ data: { setPrice: 12 } });
      await eventually(async () => expect(changes).toHaveLength(1));
      expect(changes[0]).toEqual({ type: 'Product', key: { id: 'p1' }, fields: ['price'], source: 'pricing', at: expect.any(Number) });
      expect(changes[0].at).toBeGreaterThanOrEqual(before);
      expect(await (await fetch(subgraph.url.replace('/graphql', '/metrics'))).text()).toMatch(/trellis_entity_changes_announced_total\{type="Product",service="subgraph"\} 1/);
      await feed.stop();
    } finally {
      await stop();
    }
  });
});
