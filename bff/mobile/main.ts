/** The mobile BFF process (`npm start` runs it on base+200). */
import { connectBackends, runMain } from '../../shared';
import { createMobileBff } from './app';

runMain('mobile-bff', async ({ config, logger }) => {
  const backends = await connectBackends(config, logger, { uses: ['state'] });
  const bff = createMobileBff({ config, logger, state: backends.state });
  await bff.start(config.http.port ?? config.bff.mobilePort);
  return async () => {
    await bff.stop();
    await backends.close();
  };
});
