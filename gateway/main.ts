/** Entry point of the gateway process (`node --import tsx gateway/main.ts`, or the launcher). */
import { runMain } from '../shared/lifecycle';
import { connectBackends } from '../shared/backends';
import { assembleGateway } from './assemble';

runMain('gateway', async ({ config, logger }) => {
  const backends = await connectBackends(config, logger, { uses: ['discovery', 'state', 'events'] });
  const server = await assembleGateway({ config, logger, backends });
  await server.start();
  return async () => {
    await server.stop();
    await backends.close();
  };
});
