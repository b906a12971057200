/**
 * The development identity provider as its own process (docker-compose's `idp`): tokens for any
 * subject and scopes, signed by a key made at start. `npm start` runs the same one in-process.
 * Its issuer is AUTH_ISSUER (what the gateway and subgraphs trust), else http://<ADVERTISE_HOST>:<PORT>.
 */
import { runMain } from '@trellis/kit';
import { DevIdentityProvider } from '@trellis/kit/internal';
import { IDENTITY_PROFILE } from './launcher/services';

runMain('identity', async ({ config, logger }) => {
  const port = config.http.port ?? 4400;
  const issuer = config.auth?.issuer ?? `http://${config.http.advertiseHost}:${port}`;
  const provider = new DevIdentityProvider({ issuer, audience: config.auth?.audience ?? 'trellis', logger });
  await provider.start(port, config.http.host);
  return () => provider.stop();
}, () => IDENTITY_PROFILE);
