/**
 * How long saga participants keep their dedupe records. A reset consumer group (its offsets
 * expired after `offsets.retention.minutes`, 7 days by Kafka's default) starts again from the
 * oldest message the topic still keeps; a command older than its dedupe record would be applied a
 * second time. So the records must outlive the group's offsets plus the topic's retention, and a
 * shorter TTL is refused at start.
 */
import { z } from 'zod';
import { ConfigError } from '../errors';

const WEEK_MS = 7 * 24 * 3600_000;

/** The variables, merged into the config schema (index.ts). */
export const sagaDedupeEnvShape = {
  /** What the brokers' `offsets.retention.minutes` keeps a consumer group's offsets for, in ms (Kafka's default: 7 days); Trellis cannot read it, so it is told. */
  KAFKA_OFFSETS_RETENTION_MS: z.coerce.number().int().positive().default(WEEK_MS),
  /** How long participants keep each (saga, step, action) dedupe record, in ms; 0: for ever. Unset: offsets retention plus topic retention. */
  SAGA_DEDUPE_TTL_MS: z.coerce.number().int().min(0).optional(),
};

/**
 * The dedupe TTL (0: kept for ever), or a ConfigError naming the variables when it is shorter than
 * what the bus keeps: KAFKA_OFFSETS_RETENTION_MS plus KAFKA_RETENTION_MS (7 days, the broker's
 * default, when unset; -1, kept for ever, needs records kept for ever).
 */
export function sagaDedupeTtlMs(env: { KAFKA_OFFSETS_RETENTION_MS: number; SAGA_DEDUPE_TTL_MS?: number; KAFKA_RETENTION_MS?: number }): number {
  const retention = env.KAFKA_RETENTION_MS ?? WEEK_MS;
  const needed = retention === -1 ? 0 : env.KAFKA_OFFSETS_RETENTION_MS + retention;
  const ttl = env.SAGA_DEDUPE_TTL_MS;
  if (ttl === undefined) return needed;
  if (ttl === 0 || (needed !== 0 && ttl >= needed)) return ttl;
  const keeps = needed === 0 ? 'for ever (KAFKA_RETENTION_MS=-1), so it must be 0 (kept for ever)' : `${needed} ms (KAFKA_OFFSETS_RETENTION_MS=${env.KAFKA_OFFSETS_RETENTION_MS} + KAFKA_RETENTION_MS=${env.KAFKA_RETENTION_MS ?? `unset: the broker's ${WEEK_MS}`})`;
  throw new ConfigError(
    `Invalid configuration: SAGA_DEDUPE_TTL_MS=${ttl} is shorter than the bus keeps commands for a reset consumer group to read again: ${keeps}; a command older than its dedupe record would be applied twice`,
  );
}
