/** A token issuer for tests: a dev identity provider on loopback, its issuer for the processes that verify, and tokens for any caller. */
import { DevIdentityProvider } from '../auth';
import { createLogger } from '../logging';
import { freePort } from './ports';

export interface TestIdentity {
  issuer: string;
  /** `AUTH_ISSUER` for every process that verifies tokens. */
  env: { AUTH_ISSUER: string };
  token(sub: string, scopes?: string[], ttlSec?: number, overrides?: { issuer?: string; audience?: string; notBefore?: number }): Promise<string>;
  /** `{ authorization: 'Bearer …' }` for a request as `sub`. */
  bearer(sub: string, scopes?: string[]): Promise<{ authorization: string }>;
  stop(): Promise<void>;
}

export async function startTestIdentity(): Promise<TestIdentity> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new DevIdentityProvider({ issuer, audience: 'trellis', logger: createLogger({ service: 'idp', level: 'silent' }) });
  await provider.start(port);
  const token: TestIdentity['token'] = (sub, scopes = [], ttlSec = 3600, overrides = {}) => provider.mint(sub, scopes, ttlSec, overrides);
  return {
    issuer,
    env: { AUTH_ISSUER: issuer },
    token,
    bearer: async (sub, scopes) => ({ authorization: `Bearer ${await token(sub, scopes)}` }),
    stop: () => provider.stop(),
  };
}
