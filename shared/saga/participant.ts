/**
 * The participant side of sagas: `handleSagaCommands('catalog', { reserveStock, releaseStock })`.
 * Each (saga, step, action) takes effect at most once however often Kafka delivers it and however
 * the writes race: the handler's writes, its dedupe record and the "compensated already" check
 * commit in one compare-and-set, and outside calls made through `context.once` run at most once.
 * A duplicate gets the first outcome replayed. A handler refuses with `SagaRefusal` (a business
 * failure, replied as such; `retriable: true` asks the orchestrator to send it again); a retriable
 * error (a backend down) is retried by the bus, holding only its partition, until the command's
 * deadline; a command past its deadline is refused as expired; a command that cannot be parsed is
 * dead-lettered at once.
 */
import { ENTITY_CHANGES_TOPIC, type AnnounceChange, type ChangeAnnouncement, type EventBus, type Subscription } from '../events';
import type { StateStore, VersionCheck, VersionedValue, VersionedWrite } from '../state';
import type { Logger } from '../logging';
import { injectTrace } from '../telemetry/spans';
import { CORRELATION_ID_HEADER, TRACEPARENT_HEADER } from '../logging';
import { ErrorCode, PoisonMessageError, TrellisError } from '../errors';
import { SAGA_TOPICS, type SagaAction, type SagaCommand, type SagaReply } from './types';
import { parseCommand } from './wire';
import { systemClock, type Clock } from './clock';
import { hashTagOf, sagaHashTag } from './keys';
import { expiredOutcome } from './commandExpiry';

/**
 * A refusal: the command will never succeed as asked (declined card, no stock), and the saga gives
 * the step up at once. `retriable: true` says instead that retrying may fix it (a dependency
 * down): the orchestrator sends it again with backoff until the step's deadline.
 */
export class SagaRefusal extends TrellisError {
  /** The command may have taken effect anyway (an outside call's outcome is unknown): the saga undoes this step too. */
  readonly uncertain: boolean;

  constructor(message: string, options: { uncertain?: boolean; retriable?: boolean } = {}) {
    super('SAGA_REFUSED', message, { retriable: options.retriable ?? false });
    this.uncertain = options.uncertain ?? false;
  }
}

export interface SagaHandlerContext {
  command: SagaCommand;
  /** Reads a versioned record; writes to it must name the version read. */
  read(key: string): Promise<VersionedValue | null>;
  /** The recorded outcome of another action of this saga step, e.g. a compensation asking what the command did. */
  outcomeOf(action: SagaAction): Promise<StoredOutcome | null>;
  /**
   * Runs an outside call (a payment provider, an e-mail) at most once for this (saga, step,
   * action), however often the command is delivered or the handler re-runs after a write
   * conflict: later runs get the first result. `call` must throw only when the outside effect did
   * not happen (then a later run may try again). If an earlier run started the call and never
   * recorded how it ended, the outcome is unknown and the command is refused, so the saga
   * compensates instead of calling twice.
   *
   * `call` gets an idempotency key for the outside system, the same on every run of this (saga,
   * step, action, name) (`onceIdempotencyKey`): a system that deduplicates on it (a payment
   * provider's `Idempotency-Key`) makes the call safe to repeat even if the once record is lost
   * (a Redis failover without `REDIS_MIN_REPLICAS_ACK`); pass `repeatable` then.
   */
  once<T>(name: string, call: (idempotencyKey: string) => Promise<T>, options?: OnceOptions): Promise<T>;
}

export interface OnceOptions {
  /**
   * The call is safe to repeat (the outside system dedupes it, e.g. a refund of what is captured
   * under a reference): when an earlier run started it and never finished, call it again instead
   * of reporting the outcome unknown.
   */
  repeatable?: boolean;
}

export interface HandlerResult {
  /** State changes that commit atomically with the dedupe record. */
  writes?: VersionedWrite[];
  /** Sent back to the orchestrator (and kept for duplicates). */
  result?: unknown;
  /**
   * The entities the writes change (`{ type: 'Product', key: { id }, fields: ['inStock'] }`),
   * announced to the gateways' entity caches once the writes are committed, before the reply: never
   * before the write is durable. Kept with the outcome, so a redelivery after a crash between the
   * commit and the announcement announces them again.
   */
  changes?: ChangeAnnouncement[];
}

export type SagaHandler = (payload: never, context: SagaHandlerContext) => Promise<HandlerResult>;

export interface StoredOutcome {
  outcome: 'success' | 'failure';
  result?: unknown;
  error?: string;
  /** A failure that may have applied all the same: compensate it. */
  uncertain?: boolean;
  /** A failure retrying may fix: never recorded, so the next attempt runs again. */
  retriable?: boolean;
  /** The command came after its deadline and was not applied (never recorded). */
  expired?: boolean;
  /** The entity changes its writes made (`HandlerResult.changes`), announced after the commit. */
  changes?: ChangeAnnouncement[];
}

export interface ParticipantOptions {
  events: EventBus;
  state: StateStore;
  logger: Logger;
  /**
   * How long dedupe (and `once`) records are kept, 0: for ever; 14 days by default. Keep them at
   * least as long as the bus keeps commands a reset consumer group could read again (the config
   * refuses less: SAGA_DEDUPE_TTL_MS).
   */
  dedupeTtlMs?: number;
  /** How long a run waits for another run's outside call to finish before calling its outcome unknown; 2 s by default. */
  onceWaitMs?: number;
  /** Times that wait; injected so tests run it forward instead of sleeping. */
  clock?: Clock;
  /** A pause before each command or compensation is applied (SAGA_STEP_PAUSE_MS), so a person can watch a saga move; 0 by default. */
  stepPauseMs?: number;
  /**
   * The hash tag (`{...}`, or a key carrying one) shared by the keys a command writes: its dedupe
   * records are filed in that slot, so on Redis Cluster they commit with the writes as one. A
   * step's command and compensation must get the same tag (both get the step's payload). Unset,
   * the saga's own tag (`sagaHashTag`), which only a participant writing per-saga keys can share.
   */
  slotOf?: (command: SagaCommand) => string;
  /** How far this host's clock may run ahead of the orchestrator's before a command counts as expired; 1 s by default. */
  deadlineSkewMs?: number;
  /** Announces the entity changes a handler reports (`HandlerResult.changes`); unannounced when absent. */
  announceChange?: AnnounceChange;
}

/**
 * The dedupe record of one (saga, step, action), in `slot` (a hash tag, from `slotOf`) or else in
 * the saga's own. Both actions of a step share it, so the "other action" check and the write are
 * one slot on Cluster; a handler's own writes must be in that slot too there, or the write is
 * refused as cross-slot.
 */
export const dedupeKey = (sagaId: string, stepIndex: number, action: string, slot?: string) =>
  slot ? `saga:dedupe:${slot}:${sagaId}:${stepIndex}:${action}` : `saga:dedupe:${sagaHashTag(sagaId)}:${stepIndex}:${action}`;
export const onceKey = (sagaId: string, stepIndex: number, action: string, name: string) => `saga:once:${sagaHashTag(sagaId)}:${stepIndex}:${action}:${name}`;

/** The key `once` hands its outside call: stable for one (saga, step, action, name), distinct across them. */
export const onceIdempotencyKey = (sagaId: string, stepIndex: number, action: string, name: string) => `${sagaId}:${stepIndex}:${action}:${name}`;
/** Dedupe records written before the hash tag: still honoured (read only), so an upgrade applies no command twice. */
const legacyDedupeKey = (sagaId: string, stepIndex: number, action: string) => `saga:dedupe:${sagaId}:${stepIndex}:${action}`;

/** Where an action's record may be from earlier layouts (read only): the saga's tag before the participant named a slot, and before tags. */
const earlierDedupeKeys = (command: SagaCommand, action: string, slot: string | undefined) => [
  ...(slot ? [dedupeKey(command.sagaId, command.stepIndex, action)] : []),
  legacyDedupeKey(command.sagaId, command.stepIndex, action),
];

/** The slot `slotOf` names for this command; a name without a hash tag is a participant's bug, refused before anything is written. */
function slotFor(command: SagaCommand, options: ParticipantOptions): string | undefined {
  if (!options.slotOf) return undefined;
  const named = options.slotOf(command);
  const tag = hashTagOf(named);
  if (!tag) throw new PoisonMessageError(`slotOf gave ${JSON.stringify(named)} for ${command.name} of saga ${command.sagaId}: not a {hash tag}`);
  return tag;
}

const firstFound = (records: Array<VersionedValue | null>) => records.find((record) => record !== null) ?? null;

const WRITE_CONFLICT_ATTEMPTS = 20;
/** Kafka's defaults: consumer offsets kept 7 days, then a topic's messages 7 days. */
const DEFAULT_DEDUPE_TTL_MS = 14 * 24 * 3600_000;

/** The dedupe records' TTL; undefined (no expiry) for 0. */
function dedupeTtl(options: ParticipantOptions): number | undefined {
  const ttl = options.dedupeTtlMs ?? DEFAULT_DEDUPE_TTL_MS;
  return ttl === 0 ? undefined : ttl;
}
/** How often a run waiting on another run's outside call looks again. */
const ONCE_POLL_MS = 50;

export async function handleSagaCommands(participant: string, handlers: Record<string, SagaHandler>, options: ParticipantOptions): Promise<Subscription> {
  const topic = SAGA_TOPICS.commands(participant);
  // The change topic too when announcing: made at start, not in the way of the first step's reply.
  await options.events.ensureTopics([topic, SAGA_TOPICS.replies, ...(options.announceChange ? [ENTITY_CHANGES_TOPIC] : [])]);
  return options.events.subscribe({
    groupId: `saga-participant-${participant}`,
    topics: [topic],
    // A participant deployed after the orchestrator first sent it work still gets that work;
    // an existing group resumes from its committed offsets, and dedupe makes replays harmless.
    fromBeginning: true,
    handler: async (message) => {
      const command = parseCommand(message.value);
      const handler = handlers[command.name];
      if (!handler) throw new PoisonMessageError(`${participant} has no handler for ${command.name}`);
      const clock = options.clock ?? systemClock;
      if (options.stepPauseMs) await new Promise<void>((resolve) => clock.setTimeout(resolve, options.stepPauseMs!));
      const { changes, ...outcome } = await applyBeforeDeadline(command, handler, options, clock);
      // After the commit (applyOnce returned) and before the reply: once the saga moves on, the caches hear of it.
      if (changes?.length && options.announceChange) await announceCommitted(changes, command, options);
      const reply: SagaReply = { sagaId: command.sagaId, stepIndex: command.stepIndex, action: command.action, ...outcome };
      const headers: Record<string, string> = {};
      for (const name of [CORRELATION_ID_HEADER, TRACEPARENT_HEADER]) if (message.headers[name]) headers[name] = message.headers[name];
      // With tracing on the reply continues this handling's span (the consumer's); off, the command's trace as it came.
      injectTrace(headers);
      await options.events.publish(SAGA_TOPICS.replies, { key: command.sagaId, value: JSON.stringify(reply), headers });
    },
  });
}

/**
 * Announces what a committed command changed. A change the announcer refuses (a handler's bug) is
 * logged, not thrown: the write is committed, and the saga must still hear how the step went.
 */
async function announceCommitted(changes: ChangeAnnouncement[], command: SagaCommand, options: ParticipantOptions): Promise<void> {
  try {
    await options.announceChange!(changes);
  } catch (error) {
    options.logger.error({ err: error, sagaId: command.sagaId, step: command.step, changes }, `${command.name}: its entity changes could not be announced`);
  }
}

/**
 * A command past its deadline is refused as expired without touching the state store. One whose
 * retriable failure (a dependency down) the bus retries in place meets this check on each retry,
 * so it stops being retried at its deadline and its partition moves on.
 */
async function applyBeforeDeadline(command: SagaCommand, handler: SagaHandler, options: ParticipantOptions, clock: Clock): Promise<StoredOutcome> {
  return expiredOutcome(command, clock.now(), options.deadlineSkewMs) ?? applyOnce(command, handler, options);
}

/** Runs the handler and commits its writes with the dedupe record; replays the stored outcome for a duplicate. */
async function applyOnce(command: SagaCommand, handler: SagaHandler, options: ParticipantOptions): Promise<StoredOutcome> {
  const { state } = options;
  const slot = slotFor(command, options);
  const key = dedupeKey(command.sagaId, command.stepIndex, command.action, slot);
  const other: SagaAction = command.action === 'command' ? 'compensation' : 'command';
  const otherKey = dedupeKey(command.sagaId, command.stepIndex, other, slot);
  const ttlMs = dedupeTtl(options);
  const onceResults = new Map<string, unknown>();
  const context: SagaHandlerContext = {
    command,
    read: (k) => state.getVersioned(k),
    outcomeOf: async (action) => {
      const found = firstFound(await state.getVersionedMany([dedupeKey(command.sagaId, command.stepIndex, action, slot), ...earlierDedupeKeys(command, action, slot)]));
      return found ? (JSON.parse(found.value) as StoredOutcome) : null;
    },
    once: (name, call, onceOptions) => runOnce(command, name, call, onceResults, options, onceOptions),
  };
  for (let attempt = 0; attempt < WRITE_CONFLICT_ATTEMPTS; attempt++) {
    // Both dedupe records, and their twins of earlier layouts, in one round trip (a pipeline on Redis).
    const mine = [key, ...earlierDedupeKeys(command, command.action, slot)];
    const records = await state.getVersionedMany([...mine, otherKey, ...earlierDedupeKeys(command, other, slot)]);
    const currentOther = records[mine.length];
    const previous = firstFound(records.slice(0, mine.length));
    if (previous) return JSON.parse(previous.value) as StoredOutcome;
    // An earlier layout's record of the other action counts as that action having happened; no one writes it any more.
    const otherSide = firstFound(records.slice(mine.length));
    // The other action of this step, as read now, must be unchanged when this one commits:
    // a command never takes effect after its compensation, and a compensation that found nothing
    // to undo cannot be overtaken by its command landing a moment later.
    const check: VersionCheck = { key: otherKey, expectedVersion: currentOther?.version ?? 0 };
    const { outcome, writes } = command.action === 'command' && otherSide ? lateCommand(command) : await decide(handler, context);
    // A refused compensation, or a failure retrying may fix, is not recorded: the orchestrator's next attempt must run it again, not replay it.
    if ((command.action === 'compensation' || outcome.retriable) && outcome.outcome === 'failure' && writes.length === 0) return outcome;
    const committed = await state.compareAndSetMany([...writes, { key, expectedVersion: 0, value: JSON.stringify(outcome), ttlMs }], [check]);
    if (committed) return outcome;
    options.logger.debug({ sagaId: command.sagaId, step: command.step, attempt }, 'saga command write conflict; deciding again');
  }
  throw new TrellisError(ErrorCode.BACKEND_UNAVAILABLE, `saga ${command.sagaId} ${command.name}: too many write conflicts`, { retriable: true });
}

/** A command delivered after the orchestrator gave up on it and compensated: it must not take effect, nothing would undo it. */
function lateCommand(command: SagaCommand): { outcome: StoredOutcome; writes: VersionedWrite[] } {
  return { outcome: { outcome: 'failure', error: `${command.name} arrived after its compensation; not applied` }, writes: [] };
}

/** What applying the command would do: a success with its writes, or a refusal. */
async function decide(handler: SagaHandler, context: SagaHandlerContext): Promise<{ outcome: StoredOutcome; writes: VersionedWrite[] }> {
  try {
    const handled = await handler(context.command.payload as never, context);
    const changes = handled.changes?.length ? { changes: handled.changes } : {};
    return { outcome: { outcome: 'success', result: handled.result ?? null, ...changes }, writes: handled.writes ?? [] };
  } catch (error) {
    if (!(error instanceof SagaRefusal)) throw error;
    return { outcome: { outcome: 'failure', error: error.message, retriable: error.retriable, ...(error.uncertain ? { uncertain: true } : {}) }, writes: [] };
  }
}

interface OnceRecord {
  state: 'started' | 'done';
  result?: unknown;
}

async function runOnce<T>(
  command: SagaCommand,
  name: string,
  call: (idempotencyKey: string) => Promise<T>,
  memo: Map<string, unknown>,
  options: ParticipantOptions,
  onceOptions: OnceOptions = {},
): Promise<T> {
  if (memo.has(name)) return memo.get(name) as T;
  const { state } = options;
  const key = onceKey(command.sagaId, command.stepIndex, command.action, name);
  const ttlMs = dedupeTtl(options);
  if (await state.setIfAbsent(key, JSON.stringify({ state: 'started' } satisfies OnceRecord), { ttlMs })) {
    let result: T;
    try {
      result = await call(onceIdempotencyKey(command.sagaId, command.stepIndex, command.action, name));
    } catch (error) {
      // The call says it did not happen: a later run may try it again.
      await state.delete(key);
      throw error;
    }
    await state.set(key, JSON.stringify({ state: 'done', result: result ?? null } satisfies OnceRecord), { ttlMs });
    memo.set(name, result);
    return result;
  }
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + (options.onceWaitMs ?? 2000);
  for (;;) {
    const raw = await state.get(key);
    const stored = raw ? (JSON.parse(raw) as OnceRecord) : null;
    if (stored?.state === 'done') {
      memo.set(name, stored.result);
      return stored.result as T;
    }
    // Gone: the run that claimed it failed before the call took effect, so this run may call.
    if (!stored) return runOnce(command, name, call, memo, options, onceOptions);
    if (clock.now() >= deadline && onceOptions.repeatable) {
      // Safe to repeat: take the abandoned call over (one taker wins the fresh claim).
      await state.delete(key);
      return runOnce(command, name, call, memo, options, onceOptions);
    }
    if (clock.now() >= deadline) {
      throw new SagaRefusal(`${command.name}: the outcome of ${name} is unknown (an earlier delivery started it and never finished); not calling twice`, { uncertain: true });
    }
    await new Promise<void>((resolve) => clock.setTimeout(resolve, ONCE_POLL_MS));
  }
}
