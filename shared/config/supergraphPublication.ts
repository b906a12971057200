/**
 * One published supergraph for every gateway on Consul: the composer lock's timing and where the
 * supergraph is published in KV (shared/discovery/consulPublication.ts).
 */
import { z } from 'zod';
import { parseWait } from '../discovery/consulRecords';

/** A duration Consul reads (`500ms`, `3s`, `1m`) within the bounds it accepts. */
const duration = (example: string, minMs: number, maxMs: number, bounds: string) =>
  z
    .string()
    .regex(/^\d+(ms|s|m)$/, `a duration like ${example}`)
    .refine((value) => parseWait(value) >= minMs && parseWait(value) <= maxMs, bounds);

/** The variables, merged into the config schema (index.ts). */
export const supergraphPublicationEnvShape = {
  /** KV prefix of the lock and the published supergraph; unset: `trellis/supergraph` (`trellis/<CONSUL_NAMESPACE>/supergraph`). */
  SUPERGRAPH_KV_PREFIX: z.string().regex(/^[A-Za-z0-9._@/-]+$/, 'a Consul KV path (letters, digits, . _ @ - and /)').optional(),
  /** After the composer's session is invalidated, nobody takes the lock for this long (Consul's lock-delay). */
  SUPERGRAPH_LOCK_DELAY: duration('1s', 0, 60_000, 'from 0s to 60s (Consul caps the lock delay at 60s)').default('1s'),
  /** The composer session's TTL, renewed at half of it; a backstop behind the check below. */
  SUPERGRAPH_SESSION_TTL: duration('10s', 10_000, 86_400_000, 'from 10s to 24h (what Consul accepts)').default('10s'),
  /** The TTL check that ties the session to the composing process: a killed composer loses the lock this soon. */
  SUPERGRAPH_COMPOSER_CHECK_TTL: duration('3s', 1000, 600_000, 'from 1s to 10m (the composer passes it every third of it)').default('3s'),
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
