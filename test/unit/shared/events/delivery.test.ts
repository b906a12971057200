/** What every bus does with a failed handler: retry the retriable for as long as it lasts, dead-letter poison at once, others after maxAttempts. */
import { deadLetterOf, onHandlerFailure, replayOf } from '@trellis/kit/internal/events/delivery';
import { BackendUnavailableError, PoisonMessageError } from '@trellis/kit/internal/errors';
import type { EventMessage } from '@trellis/kit/internal/events';

const backoff = { initialDelayMs: 10, maxDelayMs: 40, jitter: 0 };

describe('onHandlerFailure', () => {
  it('retries a retriable error on every attempt, with growing backoff, whatever maxAttempts says', () => {
    const error = new BackendUnavailableError('redis', 'down');
    expect(onHandlerFailure(error, 1, { maxAttempts: 1, backoff })).toEqual({ retryInMs: 10 });
    expect(onHandlerFailure(error, 2, { maxAttempts: 1, backoff })).toEqual({ retryInMs: 20 });
    expect(onHandlerFailure(error, 1000, { maxAttempts: 1, backoff })).toEqual({ retryInMs: 40 });
  });

  it('dead-letters a poison message on its first failure, with the reason', () => {
    expect(onHandlerFailure(new PoisonMessageError('not a saga command: bad json'), 1, { maxAttempts: 5, backoff })).toEqual({ deadLetter: 'poison: not a saga command: bad json' });
  });

  it('tries any other error maxAttempts times (3 by default), then dead-letters it', () => {
    const error = new Error('bug');
    expect(onHandlerFailure(error, 1, { backoff })).toEqual({ retryInMs: 10 });
    expect(onHandlerFailure(error, 2, { backoff })).toEqual({ retryInMs: 20 });
    expect(onHandlerFailure(error, 3, { backoff })).toEqual({ deadLetter: 'failed 3 times: bug' });
    expect(onHandlerFailure(error, 1, { maxAttempts: 1, backoff })).toEqual({ deadLetter: 'failed 1 times: bug' });
  });
});

describe('dead letters', () => {
  const message: EventMessage = { topic: 'orders', key: 'k', value: 'v', headers: { 'x-correlation-id': 'c' }, partition: 0, offset: '4', timestamp: 1 };

  it('keep key, value and headers, and add why and from where', () => {
    expect(deadLetterOf(message, 'poison: x')).toEqual({ key: 'k', value: 'v', headers: { 'x-correlation-id': 'c', 'x-dlq-error': 'poison: x', 'x-dlq-source-topic': 'orders' } });
  });

  it('go back to their source topic without the DLQ headers, counting replays', () => {
    const dead = { ...message, topic: 'orders.dlq', headers: deadLetterOf(message, 'x').headers! };
    const once = replayOf(dead)!;
    expect(once).toEqual({ topic: 'orders', message: { key: 'k', value: 'v', headers: { 'x-correlation-id': 'c', 'x-dlq-replayed': '1' } } });
    expect(replayOf({ ...dead, headers: { ...dead.headers, 'x-dlq-replayed': '1' } })!.message.headers!['x-dlq-replayed']).toBe('2');
    expect(replayOf({ ...message, headers: {} })).toBeNull();
  });
});
