/** Runs a subgraph as its own process: config, logging, backends, signals. What a subgraph's `main.ts` calls. */
import { runMain } from '../lifecycle';
import { connectBackends } from '../backends';
import { createSubgraph, type SubgraphOptions } from './createSubgraph';
import type { SubgraphContext } from './context';
import type { Config } from '../config';
import type { Logger } from '../logging';
import type { Backends } from '../backends';
import { createMetricsRegistry } from '../metrics';
import { createGuard, type Guard } from '../resilience';

export interface ServeContext {
  config: Config;
  logger: Logger;
  backends: Backends;
  /** Wraps an outbound call in a breaker whose state shows on this subgraph's `/metrics`. */
  guard: Guard;
}

/**
 * ```ts
 * serveSubgraph(() => ({ name: 'reviews', typeDefs, resolvers }));
 * ```
 * The factory receives the process's config, logger and backends, to build stores and resolvers on them.
 */
export function serveSubgraph<TContext extends SubgraphContext = SubgraphContext>(
  build: (context: ServeContext) => SubgraphOptions<TContext> | Promise<SubgraphOptions<TContext>>,
): void {
  runMain('subgraph', async ({ config, logger: baseLogger }) => {
    const backends = await connectBackends(config, baseLogger);
    const registry = createMetricsRegistry(config.serviceName ?? 'subgraph');
    const guard = createGuard({ registry, logger: baseLogger });
    const options = await build({ config, logger: baseLogger, backends, guard });
    const logger = baseLogger.child({ service: options.name });
    const subgraph = createSubgraph({ ...options, config, logger, backends, registry });
    await subgraph.start();
    return async () => {
      await subgraph.stop();
      await backends.close();
    };
  });
}
