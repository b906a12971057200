/** launchSubgraph: what a subgraph's main.ts gets (config, logger, backends, guard, registry), and a stop that undoes it all. */
import { loadConfig } from '../../../../shared/config';
import { launchSubgraph, type ServeContext } from '../../../../shared/subgraph/serve';
import type { ServiceInstance } from '../../../../shared/discovery';
import { recordingLogger } from '../../../support/recordingLogger';
import { FEDERATION_LINK } from '../../../../subgraphs/federation';

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
});
