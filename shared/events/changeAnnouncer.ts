/**
 * The kit's announcer of entity changes: after a write, a subgraph says which entity changed and
 * every gateway's entity cache drops what it holds for it (the gateway's change feed reads them).
 *
 * ```ts
 * await stock.write(...);                                   // durable first
 * await announceChange({ type: 'Product', key: { id }, fields: ['inStock'] });
 * ```
 *
 * A publish that fails (Kafka down) is tried again with backoff for `retryForMs`; past that the
 * change is given up (a publish still under way may yet land), logged as an error and counted (`trellis_entity_changes_failed_total`), and
 * the call resolves all the same: the write it announces is done, and failing the caller would not
 * undo it. What bounds staleness then is the gateway's side: a feed that stops hearing its own
 * heartbeat through the bus shortens the cache's TTLs, and the declared TTL is the last backstop.
 */
import { Counter, type Registry } from 'prom-client';
import { ErrorCode, TrellisError, errorMessage } from '../errors';
import type { Logger } from '../logging';
import { singleMetric } from '../metrics';
import { retry, type BackoffPolicy } from '../retry';
import { systemClock, type Clock } from '../saga/clock';
import { ENTITY_CHANGES_TOPIC, encodeEntityChange, entityChangeKey, type EntityChange } from './entityChange';
import type { EventBus } from './types';
import { TimedOut, withTimeout } from './kafka/timeout';

/** What a subgraph says changed: the entity's type and key, and the fields if not all of them. */
export type ChangeAnnouncement = Pick<EntityChange, 'type' | 'key' | 'fields'>;

/** Announces one change or several (published together, each keyed by its entity). */
export type AnnounceChange = (changes: ChangeAnnouncement | readonly ChangeAnnouncement[]) => Promise<void>;

export interface ChangeAnnouncerOptions {
  events: EventBus;
  /** The subgraph making the changes (the change's `source`). */
  source: string;
  logger: Logger;
  /** Where announced and failed changes are counted; uncounted when absent. */
  registry?: Registry;
  /** How long a failing publish is tried again before the change is given up; 30 s by default. */
  retryForMs?: number;
  backoff?: BackoffPolicy;
  clock?: Clock;
}

export const ANNOUNCE_RETRY_MS = 30_000;
const ANNOUNCE_BACKOFF: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 2_000, multiplier: 2, jitter: 0.2 };

/** A change the schema refuses (no type, an empty key): a bug in the announcing code, refused before anything is published. */
export class InvalidEntityChangeError extends TrellisError {
  constructor(message: string) {
    super(ErrorCode.INTERNAL, message, { retriable: false });
  }
}

export function createChangeAnnouncer(options: ChangeAnnouncerOptions): AnnounceChange {
  const clock = options.clock ?? systemClock;
  const retryForMs = options.retryForMs ?? ANNOUNCE_RETRY_MS;
  const counters = options.registry && announcerMetrics(options.registry);
  let topicReady: Promise<void> | undefined;
  const ensureTopic = () => (topicReady ??= options.events.ensureTopics([ENTITY_CHANGES_TOPIC]).catch((error: unknown) => {
    topicReady = undefined;
    throw error;
  }));

  return async (announced) => {
    const list = (Array.isArray(announced) ? announced : [announced]) as readonly ChangeAnnouncement[];
    if (list.length === 0) return;
    const at = clock.now();
    const changes: EntityChange[] = list.map((change) => checked({ type: change.type, key: change.key, ...(change.fields ? { fields: change.fields } : {}), source: options.source, at }));
    const messages = changes.map((change) => ({ key: entityChangeKey(change), value: encodeEntityChange(change) }));
    const deadline = at + retryForMs;
    try {
      await retry(
        // Each attempt within what is left: a publish to a dead broker may otherwise wait out its own, longer, timeout.
        () =>
          withTimeout(
            (async () => {
              await ensureTopic();
              await options.events.publish(ENTITY_CHANGES_TOPIC, messages);
            })(),
            Math.max(1, deadline - clock.now()),
            `entity changes not published within ${retryForMs} ms`,
          ),
        {
          policy: options.backoff ?? ANNOUNCE_BACKOFF,
          // Any failure is worth another try until the deadline: the change is already true in the store. An attempt that
          // timed out was given all the time left, so it ends the tries even when its timer fired a little before the clock says so.
          shouldRetry: (error) => !(error instanceof TimedOut) && clock.now() < deadline,
          sleep: (ms) => new Promise<void>((resolve) => clock.setTimeout(resolve, Math.min(ms, Math.max(0, deadline - clock.now())))),
          onRetry: (error, attempt) => {
            if (attempt === 1) options.logger.warn({ err: errorMessage(error), changes: changes.length }, 'entity change not published yet; retrying');
          },
        },
      );
      for (const change of changes) counters?.announced.inc({ type: change.type });
    } catch (error) {
      for (const change of changes) counters?.failed.inc({ type: change.type });
      options.logger.error(
        { err: errorMessage(error), retryForMs, changes: changes.map((change) => entityChangeKey(change)) },
        'entity changes could not be published: gateways keep what they cached until the TTL (shortened while their change feed is down)',
      );
    }
  };
}

function checked(change: EntityChange): EntityChange {
  if (!/^[_A-Za-z][_0-9A-Za-z]*$/.test(change.type)) throw new InvalidEntityChangeError(`entity change type ${JSON.stringify(change.type)} is not a GraphQL type name`);
  if (change.key === null || typeof change.key !== 'object' || Object.keys(change.key).length === 0) throw new InvalidEntityChangeError(`entity change of ${change.type} needs a key with at least one field`);
  if (change.fields !== undefined && (change.fields.length === 0 || change.fields.some((field) => typeof field !== 'string' || field === ''))) {
    throw new InvalidEntityChangeError(`entity change of ${change.type}: fields, when given, name at least one field`);
  }
  return change;
}

function announcerMetrics(registry: Registry) {
  return {
    announced: singleMetric(registry, 'trellis_entity_changes_announced_total', () => new Counter({ name: 'trellis_entity_changes_announced_total', help: 'Entity changes published for the gateways’ caches, by type', labelNames: ['type'], registers: [registry] })),
    failed: singleMetric(
      registry,
      'trellis_entity_changes_failed_total',
      () => new Counter({ name: 'trellis_entity_changes_failed_total', help: 'Entity changes given up after retrying the publish (cached copies live until their TTL), by type', labelNames: ['type'], registers: [registry] }),
    ),
  };
}
