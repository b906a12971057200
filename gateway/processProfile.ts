/** What the gateway process runs, for the production start checks (shared/config/production.ts). */
import type { Config, ProcessProfile } from '@trellis/kit';

/** A fixed supergraph (`--supergraph` or SUPERGRAPH_PATH) needs no discovery and composes nothing. */
export function gatewayProfile(config: Config, supergraphFlag?: string): ProcessProfile {
  return (supergraphFlag ?? config.gateway.supergraphPath) !== undefined
    ? { backends: ['state', 'events'], admin: true, cachesEntities: true }
    : { backends: ['discovery', 'state', 'events'], composes: true, admin: true, cachesEntities: true };
}
