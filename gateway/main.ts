/** Entry point of the gateway process (`node gateway/main.ts` through tsx, or the launcher). */
import { runMain } from '../shared/lifecycle';
import { connectBackends } from '../shared/backends';
import { DiscoverySupergraphManager } from './supergraph/discoveryManager';
import { GatewayServer } from './server';

runMain('gateway', async ({ config, logger }) => {
  const backends = await connectBackends(config, logger, { uses: ['discovery'] });
  const source = new DiscoverySupergraphManager({
    discovery: backends.discovery,
    logger,
    sdlTimeoutMs: config.gateway.sdlTimeoutMs,
  });
  await source.start();
  const server = new GatewayServer({ config, logger, source });
  await server.start();
  return async () => {
    await server.stop();
    await backends.close();
  };
});
