/** The entity cache as a gateway extension: it reads each new supergraph, and closes its Redis on stop. */
import type { Logger } from '@trellis/kit';
import type { GatewayExtension } from '../extension';
import type { EntityCache } from './entityCache';

export function entityCacheExtension(cache: EntityCache, logger: Logger): GatewayExtension {
  const responses = cache.responsePlugin();
  return {
    name: 'entityCache',
    // After every check (they run in didResolveOperation), before the executor: whole answers (responseTier.ts).
    ...(responses ? { apolloPlugins: [responses] } : {}),
    attach(_server, host) {
      host.gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl, apiSchema }) => {
        try {
          cache.useSupergraph(coreSupergraphSdl, apiSchema);
        } catch (error) {
          logger.error({ err: error }, 'the entity cache cannot read the new supergraph; it keeps the previous one');
        }
      });
    },
    async stop() {
      await cache.stop();
    },
  };
}
