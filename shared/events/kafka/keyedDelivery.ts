/**
 * One attempt at a message for a keyed consumer, whichever client: the subscriber's handler, and
 * on a throw the shared verdict (shared/events/delivery.ts): retry after a backoff, or to
 * `<topic>.dlq` with the reason. A dead letter that cannot be published is tried again, never dropped.
 */
import { errorMessage } from '../../errors';
import type { Logger } from '../../logging';
import { backoffDelay, DEFAULT_BACKOFF } from '../../retry';
import { deadLetterOf, onHandlerFailure } from '../delivery';
import { DEAD_LETTER_SUFFIX, type OutgoingMessage, type SubscribeOptions } from '../types';
import type { Deliver } from './keyedPartition';

/** How a consumer publishes a dead-lettered message (through the bus's producer). */
export type Publish = (topic: string, message: OutgoingMessage) => Promise<void>;

export function keyedDelivery(options: Pick<SubscribeOptions, 'handler' | 'maxAttempts' | 'backoff'>, publish: Publish, logger?: Logger): Deliver {
  return async (message, attempt) => {
    try {
      await options.handler(message);
      return 'settled';
    } catch (error) {
      const where = { topic: message.topic, partition: message.partition, offset: message.offset, key: message.key };
      const verdict = onHandlerFailure(error, attempt, options);
      if ('retryInMs' in verdict) {
        if (attempt === 1 || attempt % 10 === 0) logger?.warn({ ...where, attempt, retryInMs: verdict.retryInMs, err: errorMessage(error) }, 'handler failed; its key waits for the retry');
        return verdict;
      }
      logger?.warn({ ...where, reason: verdict.deadLetter }, 'message dead-lettered');
      try {
        await publish(message.topic + DEAD_LETTER_SUFFIX, deadLetterOf(message, verdict.deadLetter));
        return 'settled';
      } catch (publishError) {
        logger?.warn({ ...where, err: errorMessage(publishError) }, 'dead-lettering failed; the message is tried again');
        return { retryInMs: backoffDelay(attempt, options.backoff ?? DEFAULT_BACKOFF) };
      }
    }
  };
}
