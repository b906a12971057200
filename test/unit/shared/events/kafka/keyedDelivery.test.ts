/** One attempt at a message for a keyed Kafka consumer: the shared failure verdict, and dead letters never dropped. */
import type { EventMessage, OutgoingMessage } from '@trellis/kit/internal/events';
import { keyedDelivery } from '@trellis/kit/internal/events/kafka/keyedDelivery';
import { BackendUnavailableError, PoisonMessageError } from '@trellis/kit/internal/errors';
import { recordingLogger } from '../../../../support/recordingLogger';

const message: EventMessage = { topic: 'orders', partition: 2, key: 'k', value: 'v', headers: { h: '1' }, offset: '9', timestamp: 0 };
const backoff = { initialDelayMs: 100, maxDelayMs: 1000, jitter: 0 };

describe('keyedDelivery', () => {
  it('settles a handled message', async () => {
    const deliver = keyedDelivery({ handler: async () => undefined }, async () => undefined);
    await expect(deliver(message, 1)).resolves.toBe('settled');
  });

  it('retries a retriable failure with the backoff of its attempt, however many attempts', async () => {
    const deliver = keyedDelivery({ handler: async () => Promise.reject(new BackendUnavailableError('redis', 'down')), maxAttempts: 1, backoff }, async () => undefined);
    await expect(deliver(message, 1)).resolves.toEqual({ retryInMs: 100 });
    await expect(deliver(message, 3)).resolves.toEqual({ retryInMs: 400 });
    await expect(deliver(message, 30)).resolves.toEqual({ retryInMs: 1000 });
  });

  it('dead-letters a poison message at once, and another failure after maxAttempts, with the reason', async () => {
    const published: Array<[string, OutgoingMessage]> = [];
    const publish = async (topic: string, out: OutgoingMessage) => void published.push([topic, out]);
    const poison = keyedDelivery({ handler: async () => Promise.reject(new PoisonMessageError('bad json')) }, publish);
    await expect(poison(message, 1)).resolves.toBe('settled');
    const failing = keyedDelivery({ handler: async () => Promise.reject(new Error('boom')), maxAttempts: 2, backoff }, publish);
    await expect(failing(message, 1)).resolves.toEqual({ retryInMs: 100 });
    await expect(failing(message, 2)).resolves.toBe('settled');
    expect(published.map(([topic, out]) => [topic, out.headers?.['x-dlq-error']])).toEqual([
      ['orders.dlq', 'poison: bad json'],
      ['orders.dlq', 'failed 2 times: boom'],
    ]);
    expect(published[0][1]).toMatchObject({ key: 'k', value: 'v', headers: { h: '1', 'x-dlq-source-topic': 'orders' } });
  });

  it('tries the message again when its dead letter cannot be published', async () => {
    const deliver = keyedDelivery({ handler: async () => Promise.reject(new PoisonMessageError('bad')), backoff }, async () => Promise.reject(new Error('kafka down')));
    await expect(deliver(message, 2)).resolves.toEqual({ retryInMs: 200 });
  });

  it('logs a retried failure on its first attempt and every tenth, not on each, with where it happened', async () => {
    const { logger, lines } = recordingLogger();
    const deliver = keyedDelivery({ handler: async () => Promise.reject(new BackendUnavailableError('redis', 'down')), maxAttempts: 1, backoff }, async () => undefined, logger);
    for (let attempt = 1; attempt <= 21; attempt++) await deliver(message, attempt);
    expect(lines.map((line) => [line.msg, line.attempt, line.topic, line.partition, line.offset, line.key, line.retryInMs])).toEqual([
      ['handler failed; its key waits for the retry', 1, 'orders', 2, '9', 'k', 100],
      ['handler failed; its key waits for the retry', 10, 'orders', 2, '9', 'k', 1000],
      ['handler failed; its key waits for the retry', 20, 'orders', 2, '9', 'k', 1000],
    ]);
    expect(lines[0].err).toEqual(expect.stringContaining('down'));
  });

  it('logs a dead letter with its reason, and a dead letter that could not be published', async () => {
    const { logger, lines } = recordingLogger();
    const deliver = keyedDelivery({ handler: async () => Promise.reject(new PoisonMessageError('bad json')), backoff }, async () => Promise.reject(new Error('kafka down')), logger);
    await deliver(message, 1);
    expect(lines.map((line) => [line.msg, line.offset, line.reason ?? line.err])).toEqual([
      ['message dead-lettered', '9', 'poison: bad json'],
      ['dead-lettering failed; the message is tried again', '9', expect.stringContaining('kafka down')],
    ]);
  });
});
