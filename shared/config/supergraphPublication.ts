/**
 * One published supergraph for every gateway on Consul: the composer lock's timing and where the
 * supergraph is published in KV (shared/discovery/consulPublication.ts).
 */
import { z } from 'zod';

const duration = (example: string) => z.string().regex(/^\d+(ms|s|m)$/, `a duration like ${example}`);

/** The variables, merged into the config schema (index.ts). */
export const supergraphPublicationEnvShape = {
  /** KV prefix of the lock and the published supergraph; unset: `trellis/supergraph` (`trellis/<CONSUL_NAMESPACE>/supergraph`). */
  SUPERGRAPH_KV_PREFIX: z.string().regex(/^[A-Za-z0-9._@/-]+$/, 'a Consul KV path (letters, digits, . _ @ - and /)').optional(),
  /** After the composer's session is invalidated, nobody takes the lock for this long (Consul's lock-delay). */
  SUPERGRAPH_LOCK_DELAY: duration('1s').default('1s'),
  /** The composer session's TTL, renewed at half of it; a backstop behind the check below. Consul takes 10s to 24h. */
  SUPERGRAPH_SESSION_TTL: duration('10s').default('10s'),
  /** The TTL check that ties the session to the composing process: a killed composer loses the lock this soon. */
  SUPERGRAPH_COMPOSER_CHECK_TTL: duration('3s').default('3s'),
};

export interface SupergraphPublicationSettings {
  prefix?: string;
  lockDelay: string;
  sessionTtl: string;
  holderCheckTtl: string;
}

export function supergraphPublicationSettings(env: { [K in keyof typeof supergraphPublicationEnvShape]?: string }): SupergraphPublicationSettings {
  return {
    prefix: env.SUPERGRAPH_KV_PREFIX,
    lockDelay: env.SUPERGRAPH_LOCK_DELAY ?? '1s',
    sessionTtl: env.SUPERGRAPH_SESSION_TTL ?? '10s',
    holderCheckTtl: env.SUPERGRAPH_COMPOSER_CHECK_TTL ?? '3s',
  };
}
