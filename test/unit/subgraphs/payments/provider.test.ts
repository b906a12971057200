/**
 * The embedded payment provider stands in for an outside system that deduplicates on an
 * idempotency key: whatever cuts a capture off, the same key again captures at most once and
 * answers, so the step's retry never has to give up (the saga chaos test once dead-lettered six
 * payment commands on "a capture ... is in progress" after Redis went away mid-capture).
 */
import { BackendUnavailableError, type StateStore } from '@trellis/kit';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { EmbeddedPaymentProvider } from '../../../../subgraphs/payments/provider';

const WRITES = ['set', 'setIfAbsent', 'increment', 'compareAndSet', 'compareAndSetMany', 'delete'] as const;

/** The store, failing its `failAt`-th write (counting from 1) once, as a Redis gone away mid-capture does. */
function failingWrite(store: InMemoryStateStore, failAt: number): StateStore {
  let writes = 0;
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if ((WRITES as readonly string[]).includes(String(name)) && ++writes === failAt) return Promise.reject(new BackendUnavailableError('redis', 'connection lost'));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('EmbeddedPaymentProvider', () => {
  it.each([1, 2, 3])('answers the retry of a capture cut off at its write %i, and charges once', async (failAt) => {
    const store = new InMemoryStateStore();
    const provider = new EmbeddedPaymentProvider(failingWrite(store, failAt));
    const first = await provider.capture('order-1', 12.5, 'saga-1:1:command:capture').then(
      (answer) => answer,
      (error: unknown) => error,
    );
    const retried = await provider.capture('order-1', 12.5, 'saga-1:1:command:capture');
    if (!(first instanceof Error)) expect(retried).toEqual(first);
    expect(retried.captureId).toMatch(/^cap-order-1-/);
    expect(await new EmbeddedPaymentProvider(store).books('order-1')).toEqual({ captures: 1, refunds: 0 });
  });

  it('captures once for twins sent at the same time, both answered with the same capture', async () => {
    const provider = new EmbeddedPaymentProvider(new InMemoryStateStore());
    const answers = await Promise.all(Array.from({ length: 5 }, () => provider.capture('order-2', 10, 'saga-2:1:command:capture')));
    expect(new Set(answers.map(({ captureId }) => captureId)).size).toBe(1);
    expect(await provider.books('order-2')).toEqual({ captures: 1, refunds: 0 });
  });

  it('captures again under a new key, and refunds only what is still captured', async () => {
    const provider = new EmbeddedPaymentProvider(new InMemoryStateStore());
    const first = await provider.capture('order-3', 10, 'saga-3:1:command:capture');
    const second = await provider.capture('order-3', 10, 'saga-3b:1:command:capture');
    expect(second.captureId).not.toBe(first.captureId);
    expect(second.captureId).toBe('cap-order-3-2-1000');
    expect(await provider.refund('order-3')).toEqual({ refunded: true });
    expect(await provider.refund('order-3')).toEqual({ refunded: true });
    expect(await provider.refund('order-3')).toEqual({ refunded: false });
    expect(await provider.books('order-3')).toEqual({ captures: 2, refunds: 2 });
  });

  it('honours captures made under the earlier key layout: the same key answers them, the books and the next number count them', async () => {
    const store = new InMemoryStateStore();
    await store.set('payments:provider:captures:order-4', '1');
    await store.set('payments:provider:idempotency:saga-4:1:command:capture', 'cap-order-4-1-1000');
    await store.set('payments:provider:idempotency:saga-4b:1:command:capture', 'in-flight');
    const provider = new EmbeddedPaymentProvider(store);
    expect(await provider.capture('order-4', 10, 'saga-4:1:command:capture')).toEqual({ captureId: 'cap-order-4-1-1000' });
    expect(await provider.books('order-4')).toEqual({ captures: 1, refunds: 0 });
    expect(await provider.capture('order-4', 10, 'saga-4b:1:command:capture')).toEqual({ captureId: 'cap-order-4-2-1000' });
    expect(await provider.books('order-4')).toEqual({ captures: 2, refunds: 0 });
  });
});
