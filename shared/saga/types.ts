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
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Wait before the second attempt; doubles each attempt, up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
}

export interface StepDefinition<Input> {
  name: string;
  /** The service that performs the step; its commands go to `saga.commands.<participant>`. */
  participant: string;
  command: string;
  /** Undoes the command; absent when there is nothing to undo. */
  compensation?: string;
  /** Builds the command payload from the saga input and earlier steps' results. */
  payload: (input: Input, results: Record<string, unknown>) => unknown;
  /** A command with no reply after this long is retried (or fails the step). */
  timeoutMs: number;
  retry: RetryPolicy;
}

export interface SagaDefinition<Input = unknown> {
  name: string;
  /**
   * A label for this version, shown beside its digest and part of it (versions.ts): the steps
   * alone tell versions apart; a new label is needed only when the payload builders change and the steps do not.
   */
  version?: string;
  steps: Array<StepDefinition<Input>>;
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
  /** When the current attempt times out. */
  deadline?: number;
}

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
}

export const SAGA_TOPICS = {
  commands: (participant: string) => `saga.commands.${participant}`,
  replies: 'saga.replies',
} as const;
