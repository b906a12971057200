/**
 * Entity changes (issue 33): how long an announcer retries a publish, and how the gateway's change
 * feed tells it is live. Each gateway publishes a heartbeat on the change topic every
 * ENTITY_CHANGES_HEARTBEAT_MS and reads it back; when it has not read its own for
 * ENTITY_CHANGES_SILENCE_MS (Kafka down, the consumer lagging), changes may be going unheard, so the
 * cache keeps what it serves for at most ENTITY_CHANGES_DEGRADED_TTL_MS until the feed is live again.
 */
import { z } from 'zod';
import { ConfigError } from '../errors';

export interface EntityChangeSettings {
  /** How long an announcer retries a failing publish before it gives the change up (logged, counted). */
  announceRetryMs: number;
  /** How often each gateway sends its heartbeat through the change topic. */
  heartbeatMs: number;
  /** Silence after which the gateway's feed counts as down and the cache's TTLs are shortened. */
  silenceMs: number;
  /** The longest an entry is served while the feed is down. */
  degradedTtlMs: number;
}

/** The variables, merged into the config schema (index.ts). */
export const entityChangesEnvShape = {
  ENTITY_CHANGES_ANNOUNCE_RETRY_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  ENTITY_CHANGES_HEARTBEAT_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  ENTITY_CHANGES_SILENCE_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  ENTITY_CHANGES_DEGRADED_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(2_000),
};

export function entityChangeSettings(env: {
  ENTITY_CHANGES_ANNOUNCE_RETRY_MS: number;
  ENTITY_CHANGES_HEARTBEAT_MS: number;
  ENTITY_CHANGES_SILENCE_MS: number;
  ENTITY_CHANGES_DEGRADED_TTL_MS: number;
}): EntityChangeSettings {
  // A silence shorter than two heartbeats would call a live feed down between two beats.
  if (env.ENTITY_CHANGES_SILENCE_MS < 2 * env.ENTITY_CHANGES_HEARTBEAT_MS) {
    throw new ConfigError(
      `Invalid configuration: ENTITY_CHANGES_SILENCE_MS=${env.ENTITY_CHANGES_SILENCE_MS} must be at least twice ENTITY_CHANGES_HEARTBEAT_MS=${env.ENTITY_CHANGES_HEARTBEAT_MS}`,
    );
  }
  return {
    announceRetryMs: env.ENTITY_CHANGES_ANNOUNCE_RETRY_MS,
    heartbeatMs: env.ENTITY_CHANGES_HEARTBEAT_MS,
    silenceMs: env.ENTITY_CHANGES_SILENCE_MS,
    degradedTtlMs: env.ENTITY_CHANGES_DEGRADED_TTL_MS,
  };
}
