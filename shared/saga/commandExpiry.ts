/**
 * A participant's side of step deadlines: a command whose deadline has passed is refused as
 * expired instead of applied late. The deadline is in epoch ms of the orchestrator's clock, which
 * follows the state store's (Redis `TIME`, StoreClock), so a participant allows a small skew of its
 * own host's clock before it calls one expired.
 */
import type { SagaCommand } from './types';
import type { StoredOutcome } from './participant';

/** How far a participant's clock may be ahead of the orchestrator's before a command counts as expired. */
export const DEFAULT_DEADLINE_SKEW_MS = 1000;

/** The reply to a command past its deadline; null while it is not (or it carries no deadline). */
export function expiredOutcome(command: SagaCommand, now: number, skewMs = DEFAULT_DEADLINE_SKEW_MS): StoredOutcome | null {
  if (command.deadline === undefined || now <= command.deadline + skewMs) return null;
  const late = now - command.deadline;
  return { outcome: 'failure', expired: true, error: `${command.name} expired: its deadline passed ${late} ms ago (${new Date(command.deadline).toISOString()}); not applied` };
}
