/** The saga model: definitions (what to do), records (what happened), and the messages between orchestrator and participants. */

export type SagaState = 'PENDING' | 'RUNNING' | 'COMPENSATING' | 'COMPLETED' | 'COMPENSATED' | 'FAILED';
export type StepState =
  | 'PENDING'
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMED_OUT'
  | 'COMPENSATING'
  | 'COMPENSATED'
  | 'COMPENSATION_FAILED';

export const TERMINAL_STATES: ReadonlySet<SagaState> = new Set(['COMPLETED', 'COMPENSATED', 'FAILED']);

export interface RetryPolicy {
  /**
   * Attempts of the command in all, the first included; unlimited when absent (the step's
   * deadline ends the retries). Compensations ignore it: they are retried until their own deadline.
   */
  maxAttempts?: number;
  /** Wait before the second attempt; doubles each attempt, up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
}

/**
 * Schedule-to-close deadlines of a step, counted from the start of each phase (its first command
 * written), every attempt and backoff included. Past the command's, the step gives up and is
 * compensated (an attempt may have applied); past the compensation's, the step is
 * COMPENSATION_FAILED and the saga ends FAILED once the other steps are undone.
 */
export interface StepDeadlines {
  commandMs?: number;
  compensationMs?: number;
}

/** The deadlines of a step that sets none and whose definition sets none: a minute to do, a day to undo. */
export const DEFAULT_STEP_DEADLINES: Required<StepDeadlines> = { commandMs: 60_000, compensationMs: 24 * 3600_000 };

export interface StepDefinition<Input> {
  name: string;
  /** The service that performs the step; its commands go to `saga.commands.<participant>`. */
  participant: string;
  command: string;
  /** Undoes the command; absent when there is nothing to undo. */
  compensation?: string;
  /** Builds the command payload from the saga input and earlier steps' results. */
  payload: (input: Input, results: Record<string, unknown>) => unknown;
  /** One attempt's timeout (start-to-close): a command with no reply after this long is retried, deadline permitting. */
  timeoutMs: number;
  retry: RetryPolicy;
  /** This step's deadlines; each one unset is the definition's, then `DEFAULT_STEP_DEADLINES`'. */
  deadlines?: StepDeadlines;
}

export interface SagaDefinition<Input = unknown> {
  name: string;
  /**
   * A label for this version, shown beside its digest and part of it (versions.ts): the steps
   * alone tell versions apart; a new label is needed only when the payload builders change and the steps do not.
   */
  version?: string;
  steps: Array<StepDefinition<Input>>;
  /** The deadlines of every step that does not set its own. */
  deadlines?: StepDeadlines;
}

export interface StepRecord {
  name: string;
  state: StepState;
  /** Attempts of the current phase (command, then compensation). */
  attempts: number;
  error?: string;
  /** When the current attempt's command is due to be sent (after a backoff). */
  dispatchAt?: number;
  /** Whether the current attempt was sent. */
  dispatched?: boolean;
  /** When the current attempt times out (never after `expiresAt`). */
  deadline?: number;
  /** When the current phase (command or compensation) gives up, all attempts included; absent in records written before deadlines. */
  expiresAt?: number;
  /** Why the step gave up: a refusal retrying cannot fix, its deadline passed, or its command's `maxAttempts` ran out. Absent while it has not. */
  gaveUp?: StepGiveUp;
}

export type StepGiveUp = 'refused' | 'deadline' | 'attempts';

export interface SagaRecord<Input = unknown> {
  id: string;
  definition: string;
  /** The digest of the definition version the saga started on (versions.ts); absent in records written before versions. */
  version?: string;
  /** That version's label, when it had one. */
  versionLabel?: string;
  /** Replies that reached an orchestrator without this saga's version, kept for one that has it (parking.ts). */
  heldReplies?: SagaReply[];
  state: SagaState;
  input: Input;
  /** Results of succeeded steps, by step name. */
  results: Record<string, unknown>;
  steps: StepRecord[];
  /** Index of the step being run or compensated. */
  cursor: number;
  createdAt: string;
  updatedAt: string;
  /** Grows by one with every transition, so watchers can order and dedupe what they see. */
  revision: number;
  correlationId?: string;
  /** W3C trace context of the request that started the saga; every command and reply carries it. */
  traceparent?: string;
  /** Commands written with this revision and not yet marked sent (the transactional outbox). */
  outbox?: OutboxEntry[];
  /** Why a FAILED saga failed: the steps that could not be undone. */
  error?: string;
}

/** A command the record must send: which step, which phase, which attempt. */
export interface OutboxEntry {
  stepIndex: number;
  action: SagaAction;
  attempt: number;
}

export type SagaAction = 'command' | 'compensation';

export interface SagaCommand {
  sagaId: string;
  saga: string;
  step: string;
  stepIndex: number;
  action: SagaAction;
  /** The command or compensation name, e.g. `reserveStock`. */
  name: string;
  attempt: number;
  payload: unknown;
  /**
   * When the step's phase gives up, in epoch ms of the orchestrator's clock (the state store's): a participant
   * refuses the command as expired past it (allowing a small clock skew) instead of applying it
   * late. Absent in commands sent before deadlines.
   */
  deadline?: number;
}

export interface SagaReply {
  sagaId: string;
  stepIndex: number;
  action: SagaAction;
  outcome: 'success' | 'failure';
  result?: unknown;
  error?: string;
  /** A failure whose effect is unknown (it may have applied): its compensation runs too. */
  uncertain?: boolean;
  /**
   * A failure retrying may fix (a dependency down): retried with backoff until the deadline.
   * `false` is a refusal retrying cannot fix. Absent (a participant before this flag): a refused
   * command is a refusal, a refused compensation is retried.
   */
  retriable?: boolean;
  /** The command arrived after its deadline and was not applied. */
  expired?: boolean;
}

export const SAGA_TOPICS = {
  commands: (participant: string) => `saga.commands.${participant}`,
  replies: 'saga.replies',
} as const;
