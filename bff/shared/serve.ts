/**
 * Runs a BFF as its own process, as `serveSubgraph` does for subgraphs: config, logging, the state
 * store (the only backend a BFF uses), signals, and a stop that drains before closing the store.
 */
import { connectBackends, runMain, type Config, type Logger, type StateStore } from '@trellis/kit';
import type { RateLimiterFactory } from '@trellis/kit';
import { BFF_PROFILE } from './processProfile';
import type { BffServer } from './server';

export type BffFactory = (options: { config: Config; logger: Logger; state: StateStore; cache?: StateStore; rateLimiter?: RateLimiterFactory }) => BffServer;

export function serveBff(name: string, create: BffFactory, defaultPort: (config: Config) => number): void {
  runMain(name, async ({ config, logger }) => {
    const backends = await connectBackends(config, logger, { uses: [...BFF_PROFILE.backends] });
    const bff = create({ config, logger, state: backends.state, cache: backends.cache, rateLimiter: backends.rateLimiter });
    await bff.start(config.http.port ?? defaultPort(config));
    return async () => {
      await bff.stop();
      await backends.close();
    };
  }, () => BFF_PROFILE);
}
