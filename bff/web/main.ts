/** The web BFF process (`npm start` runs it on base+100). */
import { connectBackends, runMain } from '../../shared';
import { createWebBff } from './app';

runMain('web-bff', async ({ config, logger }) => {
  const backends = await connectBackends(config, logger, { uses: ['state'] });
  const bff = createWebBff({ config, logger, state: backends.state });
  await bff.start(config.http.port ?? config.bff.webPort);
  return async () => {
    await bff.stop();
    await backends.close();
  };
});
