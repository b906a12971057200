/**
 * The participant side of sagas: `handleSagaCommands('catalog', { reserveStock, releaseStock })`.
 * Each command is applied once per (saga, step, action) however often it is delivered: the
 * handler's state changes and the dedupe record commit together in one compare-and-set, and a
 * duplicate gets the first outcome replayed. A handler refuses with `SagaRefusal` (a business
 * failure, replied as such); any other error leaves the command unanswered, so the bus retries it
 * and the orchestrator's deadline decides.
 */
import type { EventBus, Subscription } from '../events';
import type { StateStore, VersionedValue, VersionedWrite } from '../state';
import type { Logger } from '../logging';
import { CORRELATION_ID_HEADER } from '../logging';
import { TrellisError } from '../errors';
import { SAGA_TOPICS, type SagaCommand, type SagaReply } from './types';
import { parseCommand } from './wire';

/** A business refusal: the command will never succeed as asked (declined card, no stock). */
export class SagaRefusal extends TrellisError {
  constructor(message: string) {
    super('SAGA_REFUSED', message);
  }
}

export interface SagaHandlerContext {
  command: SagaCommand;
  /** Reads a versioned record; writes to it must name the version read. */
  read(key: string): Promise<VersionedValue | null>;
  /** The recorded outcome of another action of this saga step, e.g. a compensation asking what the command did. */
  outcomeOf(action: 'command' | 'compensation'): Promise<StoredOutcome | null>;
}

export interface HandlerResult {
  /** State changes that commit atomically with the dedupe record. */
  writes?: VersionedWrite[];
  /** Sent back to the orchestrator (and kept for duplicates). */
  result?: unknown;
}

export type SagaHandler = (payload: never, context: SagaHandlerContext) => Promise<HandlerResult>;

export interface StoredOutcome {
  outcome: 'success' | 'failure';
  result?: unknown;
  error?: string;
}

export interface ParticipantOptions {
  events: EventBus;
  state: StateStore;
  logger: Logger;
  /** How long dedupe records are kept. */
  dedupeTtlMs?: number;
}

export const dedupeKey = (sagaId: string, stepIndex: number, action: string) =>
  `saga:dedupe:${sagaId}:${stepIndex}:${action}`;

export async function handleSagaCommands(
  participant: string,
  handlers: Record<string, SagaHandler>,
  options: ParticipantOptions,
): Promise<Subscription> {
  const topic = SAGA_TOPICS.commands(participant);
  await options.events.ensureTopics([topic, SAGA_TOPICS.replies]);
  return options.events.subscribe({
    groupId: `saga-participant-${participant}`,
    topics: [topic],
    // A participant deployed after the orchestrator first sent it work still gets that work;
    // an existing group resumes from its committed offsets, and dedupe makes replays harmless.
    fromBeginning: true,
    maxAttempts: 5,
    handler: async (message) => {
      const command = parseCommand(message.value);
      const handler = handlers[command.name];
      if (!handler) throw new Error(`${participant} has no handler for ${command.name}`);
      const outcome = await applyOnce(command, handler, options);
      const reply: SagaReply = {
        sagaId: command.sagaId,
        stepIndex: command.stepIndex,
        action: command.action,
        ...outcome,
      };
      const correlationId = message.headers[CORRELATION_ID_HEADER];
      await options.events.publish(SAGA_TOPICS.replies, {
        key: command.sagaId,
        value: JSON.stringify(reply),
        headers: {
          ...(correlationId ? { [CORRELATION_ID_HEADER]: correlationId } : {}),
          ...(message.headers.traceparent ? { traceparent: message.headers.traceparent } : {}),
        },
      });
    },
  });
}

/** Runs the handler and commits its writes with the dedupe record; replays the stored outcome for a duplicate. */
async function applyOnce(
  command: SagaCommand,
  handler: SagaHandler,
  options: ParticipantOptions,
): Promise<StoredOutcome> {
  const key = dedupeKey(command.sagaId, command.stepIndex, command.action);
  const ttlMs = options.dedupeTtlMs ?? 7 * 24 * 3600_000;
  const context: SagaHandlerContext = {
    command,
    read: (k) => options.state.getVersioned(k),
    outcomeOf: async (action) => {
      const stored = await options.state.getVersioned(dedupeKey(command.sagaId, command.stepIndex, action));
      return stored ? (JSON.parse(stored.value) as StoredOutcome) : null;
    },
  };
  for (let attempt = 0; attempt < 20; attempt++) {
    const previous = await options.state.getVersioned(key);
    if (previous) return JSON.parse(previous.value) as StoredOutcome;
    const { outcome, writes } = await decide(command, handler, context);
    const committed = await options.state.compareAndSetMany([
      ...writes,
      { key, expectedVersion: 0, value: JSON.stringify(outcome), ttlMs },
    ]);
    if (committed) return outcome;
    // Someone changed what we read (or the same command ran concurrently): read again and decide again.
    options.logger.debug(
      { sagaId: command.sagaId, step: command.step, attempt },
      'saga command write conflict; retrying',
    );
  }
  throw new Error(`saga ${command.sagaId} ${command.name}: too many write conflicts`);
}

/** What applying the command would do: a success with its writes, or a refusal. */
async function decide(
  command: SagaCommand,
  handler: SagaHandler,
  context: SagaHandlerContext,
): Promise<{ outcome: StoredOutcome; writes: VersionedWrite[] }> {
  // A command delivered late, after the orchestrator gave up on it and compensated, must not take
  // effect: nothing would ever undo it. Commands and compensations of a saga share a Kafka key, so
  // one consumer sees them in order and this check cannot race its compensation.
  if (command.action === 'command' && (await context.outcomeOf('compensation'))) {
    return {
      outcome: { outcome: 'failure', error: `${command.name} arrived after its compensation; not applied` },
      writes: [],
    };
  }
  try {
    const handled = await handler(command.payload as never, context);
    return { outcome: { outcome: 'success', result: handled.result ?? null }, writes: handled.writes ?? [] };
  } catch (error) {
    if (!(error instanceof SagaRefusal)) throw error;
    return { outcome: { outcome: 'failure', error: error.message }, writes: [] };
  }
}
