/** Dedupe records outlive what a reset consumer group could read again: the TTL's default, and the refusal of a shorter one. */
import { loadConfig } from '@trellis/kit/internal/config';
import { configRefusal } from '../../../support/configRefusal';

const DAY = 24 * 3600_000;
const ttl = (env: Record<string, string>) => loadConfig(env).saga.dedupeTtlMs;
const refusal = configRefusal;

describe('SAGA_DEDUPE_TTL_MS', () => {
  it("defaults to the offsets' retention plus the topics' retention", () => {
    expect(ttl({})).toBe(14 * DAY);
    expect(ttl({ KAFKA_OFFSETS_RETENTION_MS: String(DAY) })).toBe(8 * DAY);
    expect(ttl({ KAFKA_RETENTION_MS: String(2 * DAY) })).toBe(9 * DAY);
    expect(ttl({ KAFKA_OFFSETS_RETENTION_MS: String(DAY), KAFKA_RETENTION_MS: String(DAY) })).toBe(2 * DAY);
    // Topics that keep everything: the records are kept for ever (0).
    expect(ttl({ KAFKA_RETENTION_MS: '-1' })).toBe(0);
  });

  it('takes a TTL at least that long, or 0 (for ever)', () => {
    expect(ttl({ SAGA_DEDUPE_TTL_MS: String(14 * DAY) })).toBe(14 * DAY);
    expect(ttl({ SAGA_DEDUPE_TTL_MS: String(30 * DAY) })).toBe(30 * DAY);
    expect(ttl({ SAGA_DEDUPE_TTL_MS: '0' })).toBe(0);
    expect(ttl({ SAGA_DEDUPE_TTL_MS: '0', KAFKA_RETENTION_MS: '-1' })).toBe(0);
    expect(ttl({ SAGA_DEDUPE_TTL_MS: String(2 * DAY), KAFKA_OFFSETS_RETENTION_MS: String(DAY), KAFKA_RETENTION_MS: String(DAY) })).toBe(2 * DAY);
  });

  it('refuses a shorter TTL at start, naming the variables', () => {
    expect(refusal({ SAGA_DEDUPE_TTL_MS: String(14 * DAY - 1) })).toBe(
      `Invalid configuration: SAGA_DEDUPE_TTL_MS=${14 * DAY - 1} is shorter than the bus keeps commands for a reset consumer group to read again: ${14 * DAY} ms (KAFKA_OFFSETS_RETENTION_MS=${7 * DAY} + KAFKA_RETENTION_MS=unset: the broker's ${7 * DAY}); a command older than its dedupe record would be applied twice`,
    );
    expect(refusal({ SAGA_DEDUPE_TTL_MS: String(2 * DAY), KAFKA_RETENTION_MS: String(2 * DAY) })).toContain(`${9 * DAY} ms (KAFKA_OFFSETS_RETENTION_MS=${7 * DAY} + KAFKA_RETENTION_MS=${2 * DAY})`);
    expect(refusal({ SAGA_DEDUPE_TTL_MS: String(365 * DAY), KAFKA_RETENTION_MS: '-1' })).toContain('for ever (KAFKA_RETENTION_MS=-1), so it must be 0 (kept for ever)');
    expect(refusal({ SAGA_DEDUPE_TTL_MS: '-1' })).toContain('SAGA_DEDUPE_TTL_MS="-1"');
    expect(refusal({ KAFKA_OFFSETS_RETENTION_MS: '0' })).toContain('KAFKA_OFFSETS_RETENTION_MS="0"');
  });
});
