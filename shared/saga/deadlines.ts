/**
 * Deadlines and retry decisions of the state machine, pure: how long a step's phase may take, when
 * one attempt times out, how long to wait before the next, and what a failed reply asks for.
 */
import { DEFAULT_STEP_DEADLINES, type SagaAction, type SagaDefinition, type SagaReply } from './types';

/** The phase's schedule-to-close length: the step's own, else the definition's, else the kit's. */
export function phaseDeadlineMs<Input>(definition: SagaDefinition<Input>, index: number, action: SagaAction): number {
  const key = action === 'command' ? 'commandMs' : 'compensationMs';
  return definition.steps[index].deadlines?.[key] ?? definition.deadlines?.[key] ?? DEFAULT_STEP_DEADLINES[key];
}

/** When an attempt sent at `now` times out: its own timeout, cut short by the phase's deadline. */
export function attemptDeadline<Input>(definition: SagaDefinition<Input>, index: number, now: number, expiresAt: number): number {
  return Math.min(now + definition.steps[index].timeoutMs, expiresAt);
}

/** The wait after failed attempt `attempt` (1 = the first): doubling from `backoffMs`, capped at `maxBackoffMs`. */
export function backoffAfter<Input>(definition: SagaDefinition<Input>, index: number, attempt: number): number {
  const { retry } = definition.steps[index];
  return Math.min(retry.backoffMs * 2 ** (attempt - 1), retry.maxBackoffMs);
}

/** What a step given up at its deadline says: how long, how many attempts were sent, and the last failure. */
export function deadlineError<Input>(definition: SagaDefinition<Input>, index: number, action: SagaAction, attemptsSent: number, last: string | undefined): string {
  return `deadline of ${phaseDeadlineMs(definition, index, action)} ms passed after ${attemptsSent} attempt(s); last: ${last ?? 'none'}`;
}

/** Whether the command may be tried again by count (compensations are tried until their deadline, whatever the count). */
export function attemptsLeft<Input>(definition: SagaDefinition<Input>, index: number, action: SagaAction, attempts: number): boolean {
  const { maxAttempts } = definition.steps[index].retry;
  return action === 'compensation' || maxAttempts === undefined || attempts < maxAttempts;
}

/**
 * What a failure reply asks for: `retry` (retrying may fix it), `refused` (it never will),
 * `expired` (it came after its deadline, not applied) or, for a command, `uncertain` (it may have
 * applied). A reply from a participant that predates `retriable` keeps the old meaning: a refused
 * command is a refusal, a refused compensation is retried.
 */
export type FailureKind = 'retry' | 'refused' | 'expired' | 'uncertain';

export function failureKind(reply: SagaReply, action: SagaAction): FailureKind {
  if (reply.expired) return 'expired';
  if (action === 'command') {
    if (reply.uncertain) return 'uncertain';
    return reply.retriable ? 'retry' : 'refused';
  }
  // An unknown outcome of an undo is settled by running it again (its `once` finds what happened).
  return reply.retriable === false && !reply.uncertain ? 'refused' : 'retry';
}
