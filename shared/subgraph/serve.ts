/** Runs a subgraph as its own process: config, logging, backends, metrics, guard, signals. What a subgraph's `main.ts` calls. */
import { runMain } from '../lifecycle';
import { connectBackends, type Backends } from '../backends';
import { createMetricsRegistry, type Registry } from '../metrics';
import { createGuard, type Guard } from '../resilience';
import type { Config } from '../config';
import { SUBGRAPH_PROFILE } from './processProfile';
import type { Logger } from '../logging';
import type { AnnounceChange } from '../events';
import { createSubgraph, type Subgraph, type SubgraphOptions } from './createSubgraph';
import type { SubgraphContext } from './context';

export interface ServeContext {
  config: Config;
  logger: Logger;
  backends: Backends;
  /** Wraps an outbound call in a breaker whose state shows on this subgraph's `/metrics`. */
  guard: Guard;
  /** This process's metrics, served at `/metrics`: register what the subgraph counts here (e.g. a saga orchestrator's). */
  registry: Registry;
  /**
   * Tells every gateway's entity cache that entities changed; call it after the write is durable
   * (from a resolver or a consumer, once the subgraph runs): `announceChange({ type: 'Product', key: { id }, fields: ['price'] })`.
   */
  announceChange: AnnounceChange;
}

export type SubgraphFactory<TContext extends SubgraphContext = SubgraphContext> = (
  context: ServeContext,
) => SubgraphOptions<TContext> | Promise<SubgraphOptions<TContext>>;

/** Connects backends, builds the subgraph from the factory and starts it; `stop` undoes all of it. */
export async function launchSubgraph<TContext extends SubgraphContext = SubgraphContext>(
  build: SubgraphFactory<TContext>,
  config: Config,
  baseLogger: Logger,
): Promise<{ subgraph: Subgraph<TContext>; stop: () => Promise<void> }> {
  const registry = createMetricsRegistry(config.serviceName ?? 'subgraph', { exemplars: config.telemetry !== undefined });
  const backends = await connectBackends(config, baseLogger, { registry });
  const guard = createGuard({ registry, logger: baseLogger });
  // The subgraph makes its announcer when it starts (it names the source); calls reach it from then on.
  const built: { subgraph?: Subgraph<TContext> } = {};
  const announceChange: AnnounceChange = async (changes) => {
    if (!built.subgraph) throw new Error('announceChange called before the subgraph was built');
    await built.subgraph.announceChange(changes);
  };
  const options = await build({ config, logger: baseLogger, backends, guard, registry, announceChange });
  const logger = baseLogger.child({ service: options.name });
  const subgraph = (built.subgraph = createSubgraph({ ...options, config, logger, backends, registry }));
  await subgraph.start();
  const stopSubgraph = subgraph.stop.bind(subgraph);
  return {
    subgraph,
    stop: async () => {
      await stopSubgraph();
      await backends.close();
    },
  };
}

/**
 * ```ts
 * serveSubgraph(({ backends, guard }) => ({ name: 'reviews', typeDefs, resolvers }));
 * ```
 * The factory receives the process's config, logger, backends and guard, to build stores and resolvers on them.
 */
export function serveSubgraph<TContext extends SubgraphContext = SubgraphContext>(build: SubgraphFactory<TContext>): void {
  runMain('subgraph', async ({ config, logger }) => (await launchSubgraph(build, config, logger)).stop, () => SUBGRAPH_PROFILE);
}
