/**
 * What a bus does with a message whose handler threw, shared by every EventBus: retry it later
 * (retriable errors, for as long as they stay so), or dead-letter it now with the reason.
 */
import { ErrorCode, errorMessage } from '../errors';
import { backoffDelay, DEFAULT_BACKOFF, isRetriable } from '../retry';
import { DLQ_ERROR_HEADER, DLQ_REPLAYED_HEADER, DLQ_SOURCE_TOPIC_HEADER, type EventMessage, type OutgoingMessage, type SubscribeOptions } from './types';

export const DEFAULT_MAX_ATTEMPTS = 3;

export type FailureVerdict = { retryInMs: number } | { deadLetter: string };

/** `attempt` counts the attempts made so far (1 after the first failure). */
export function onHandlerFailure(error: unknown, attempt: number, options: Pick<SubscribeOptions, 'maxAttempts' | 'backoff'>): FailureVerdict {
  if ((error as { code?: unknown } | null)?.code === ErrorCode.MESSAGE_INVALID) return { deadLetter: `poison: ${errorMessage(error)}` };
  if (isRetriable(error) || attempt < (options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)) {
    return { retryInMs: backoffDelay(attempt, options.backoff ?? DEFAULT_BACKOFF) };
  }
  return { deadLetter: `failed ${attempt} times: ${errorMessage(error)}` };
}

/** The dead-letter copy of a message: the same key, value and headers, plus why and from where. */
export function deadLetterOf(message: EventMessage, reason: string): OutgoingMessage {
  return {
    key: message.key ?? undefined,
    value: message.value,
    headers: { ...message.headers, [DLQ_ERROR_HEADER]: reason, [DLQ_SOURCE_TOPIC_HEADER]: message.topic },
  };
}

/** A dead-lettered message as it goes back to its source topic: the DLQ headers off, a replay count on. */
export function replayOf(message: EventMessage): { topic: string; message: OutgoingMessage } | null {
  const topic = message.headers[DLQ_SOURCE_TOPIC_HEADER];
  if (!topic) return null;
  const headers = { ...message.headers };
  delete headers[DLQ_ERROR_HEADER];
  delete headers[DLQ_SOURCE_TOPIC_HEADER];
  headers[DLQ_REPLAYED_HEADER] = String(Number(message.headers[DLQ_REPLAYED_HEADER] ?? 0) + 1);
  return { topic, message: { key: message.key ?? undefined, value: message.value, headers } };
}
