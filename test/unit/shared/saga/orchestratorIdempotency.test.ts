/**
 * Starting a saga with an idempotency key, as a client retry does: the same key and request give
 * the same saga for exactly the key's TTL (24 h by default), a different request under the key is
 * refused, and the ways a start can fail say what went wrong. Embedded backends, time by hand.
 */
import { InMemoryEventBus, type EventMessage } from '@trellis/kit/internal/events';
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import { createLogger } from '@trellis/kit/internal/logging';
import { IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE, IdempotencyKeyReusedError, SagaOrchestrator, sagaKey, type SagaDefinition, type SagaOrchestratorOptions } from '@trellis/kit/internal/saga';
import { ManualClock } from '@trellis/kit/testing';

const logger = createLogger({ service: 'test', level: 'silent' });
const HOUR = 3600_000;
const step = (name: string, participant: string) => ({ name, participant, command: `do-${name}`, payload: (input: unknown) => input, timeoutMs: 1000, retry: { maxAttempts: 1, backoffMs: 10, maxBackoffMs: 10 } });
const order: SagaDefinition = { name: 'order', steps: [step('reserve', 'catalog')] };
const refund: SagaDefinition = { name: 'refund', steps: [step('pay', 'payments')] };
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('SagaOrchestrator.startSaga with an idempotency key', () => {
  let clock: ManualClock;
  let state: InMemoryStateStore;
  let bus: InMemoryEventBus;
  let ids: number;
  let sent: EventMessage[];
  const make = (options: Partial<SagaOrchestratorOptions> = {}) =>
    new SagaOrchestrator({ state, events: bus, logger, definitions: [order, refund], clock, newId: () => `saga-${++ids}`, ...options });
  const keyed = (key: string, request: unknown, scope = 'user-1') => ({ idempotency: { scope, key, request } });

  beforeEach(async () => {
    clock = new ManualClock();
    state = new InMemoryStateStore({ now: () => clock.current });
    bus = new InMemoryEventBus();
    ids = 0;
    sent = [];
    await bus.subscribe({ groupId: 'watch', topics: ['saga.commands.catalog'], fromBeginning: true, handler: async (m) => void sent.push(m) });
  });

  it('gives the same saga to the same key and request, keys in any order, and sends its command once', async () => {
    const orchestrator = make();
    const first = await orchestrator.startSaga('order', { sku: 'a', qty: 2, note: { to: 'x', from: 'y' } }, keyed('k1', { sku: 'a', qty: 2, extra: undefined, note: { to: 'x', from: 'y' } }));
    const again = await orchestrator.startSaga('order', { sku: 'a', qty: 2 }, keyed('k1', { note: { from: 'y', to: 'x' }, qty: 2, sku: 'a' }));
    expect(first.id).toBe('saga-1');
    expect(again).toMatchObject({ id: 'saga-1', state: 'RUNNING', input: { sku: 'a', qty: 2, note: { to: 'x', from: 'y' } } });
    await flush();
    expect(sent.map((m) => m.key)).toEqual(['saga-1']);
  });

  it('startedBy answers the saga a key started, before any check of the caller’s own: null for a free key, refused for another request or kind', async () => {
    const orchestrator = make();
    const request = { sku: 'a', qty: 2 };
    expect(await orchestrator.startedBy('order', { scope: 'user-1', key: 'k1', request })).toBeNull();
    const first = await orchestrator.startSaga('order', request, keyed('k1', request));
    expect(await orchestrator.startedBy('order', { scope: 'user-1', key: 'k1', request: { qty: 2, sku: 'a' } })).toMatchObject({ id: first.id, state: 'RUNNING' });
    // Another caller's key of the same name is theirs.
    expect(await orchestrator.startedBy('order', { scope: 'user-2', key: 'k1', request })).toBeNull();
    await expect(orchestrator.startedBy('order', { scope: 'user-1', key: 'k1', request: { sku: 'b', qty: 2 } })).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    await expect(orchestrator.startedBy('refund', { scope: 'user-1', key: 'k1', request })).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', message: 'idempotency key k1 was already used for a different request' });
  });

  it('refuses the same key with a different request, whatever differs', async () => {
    const orchestrator = make();
    await orchestrator.startSaga('order', {}, keyed('k1', { items: [1, 2], sku: 'a' }));
    for (const request of [{ items: [2, 1], sku: 'a' }, { items: [1, 2], sku: 'b' }, { items: [1, 2], sku: 'a', qty: 1 }, { items: ['1', 2], sku: 'a' }, null]) {
      const error = await orchestrator.startSaga('order', {}, keyed('k1', request)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdempotencyKeyReusedError);
      expect(error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', retriable: false, message: 'idempotency key k1 was already used for a different request' });
    }
  });

  it('refuses the same key and request for another kind of saga', async () => {
    const orchestrator = make();
    await orchestrator.startSaga('order', {}, keyed('k1', { amount: 5 }));
    await expect(orchestrator.startSaga('refund', {}, keyed('k1', { amount: 5 }))).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  });

  it('keeps the keys of different callers apart', async () => {
    const orchestrator = make();
    const mine = await orchestrator.startSaga('order', {}, keyed('k1', { amount: 5 }, 'user-1'));
    const theirs = await orchestrator.startSaga('order', {}, keyed('k1', { amount: 5 }, 'user-2'));
    expect([mine.id, theirs.id]).toEqual(['saga-1', 'saga-2']);
  });

  it('treats a missing request like null, and orders keys however many there are', async () => {
    const orchestrator = make();
    const a = await orchestrator.startSaga('order', {}, keyed('k-null', undefined));
    expect((await orchestrator.startSaga('order', {}, keyed('k-null', null))).id).toBe(a.id);
    const b = await orchestrator.startSaga('order', {}, keyed('k-many', { d: 4, b: 2, e: 5, a: 1, c: 3 }));
    expect((await orchestrator.startSaga('order', {}, keyed('k-many', { c: 3, e: 5, a: 1, d: 4, b: 2 }))).id).toBe(b.id);
    expect((await orchestrator.startSaga('order', {}, keyed('k-many', { a: 1, b: 2, c: 3, d: 4, e: 5 }))).id).toBe(b.id);
  });

  it('maps a key to its saga for exactly 24 hours by default', async () => {
    const orchestrator = make();
    await orchestrator.startSaga('order', {}, keyed('k1', { amount: 5 }));
    clock.current += 24 * HOUR - 1;
    expect((await orchestrator.startSaga('order', {}, keyed('k1', { amount: 5 }))).id).toBe('saga-1');
    clock.current += 1;
    // The key is free again: the same request now starts a new saga (each start draws a fresh id).
    expect((await orchestrator.startSaga('order', {}, keyed('k1', { amount: 5 }))).id).toBe('saga-3');
  });

  it('maps a key for its own idempotencyTtlMs', async () => {
    const orchestrator = make({ idempotencyTtlMs: 1000 });
    await orchestrator.startSaga('order', {}, keyed('k1', { amount: 5 }));
    clock.current += 999;
    expect((await orchestrator.startSaga('order', {}, keyed('k1', { amount: 5 }))).id).toBe('saga-1');
    clock.current += 1;
    expect((await orchestrator.startSaga('order', {}, keyed('k1', { amount: 5 }))).id).toBe('saga-3');
  });

  it('says so when the saga of a live key is no longer kept (its retention ended before the key)', async () => {
    const orchestrator = make({ retentionMs: 1000 });
    await orchestrator.startSaga('order', {}, keyed('k1', { amount: 5 }));
    await state.delete(sagaKey('saga-1'));
    clock.current += 1000;
    await expect(orchestrator.startSaga('order', {}, keyed('k1', { amount: 5 }))).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'saga saga-1 of idempotency key k1 is no longer kept' });
  });

  it('finishes, on the retry, a start that took its key and failed to write its record: one saga, one command', async () => {
    const orchestrator = make();
    const writes = jest.spyOn(state, 'compareAndSetMany');
    // The key is taken; the record's write then fails, as when Redis goes away between the two.
    writes.mockImplementationOnce((...args) => InMemoryStateStore.prototype.compareAndSetMany.apply(state, args)).mockRejectedValueOnce(new Error('redis: connection lost'));
    await expect(orchestrator.startSaga('order', { sku: 'a' }, keyed('k1', { sku: 'a' }))).rejects.toThrow('redis: connection lost');
    expect(await state.getVersioned(sagaKey('saga-1'))).toBeNull();
    const retried = await orchestrator.startSaga('order', { sku: 'a' }, keyed('k1', { sku: 'a' }));
    expect(retried).toMatchObject({ id: 'saga-1', state: 'RUNNING', input: { sku: 'a' } });
    expect((await orchestrator.startSaga('order', { sku: 'a' }, keyed('k1', { sku: 'a' }))).id).toBe('saga-1');
    await flush();
    expect(sent.map((m) => m.key)).toEqual(['saga-1']);
    writes.mockRestore();
  });

  it('asks to try again when the key cannot be taken and maps to nothing (it expired in between)', async () => {
    const orchestrator = make();
    const writes = jest.spyOn(state, 'compareAndSetMany').mockResolvedValueOnce(null);
    await expect(orchestrator.startSaga('order', {}, keyed('k1', {}))).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      retriable: true,
      message: 'idempotency key k1: conflicting write, try again',
    });
    writes.mockRestore();
  });

  it('refuses a taken id under an idempotency key, and leaves the key free for the retry', async () => {
    const orchestrator = make();
    await orchestrator.startSaga('order', {}, { id: 'fixed' });
    await expect(orchestrator.startSaga('order', {}, { id: 'fixed', ...keyed('k1', {}) })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: 'saga fixed already exists' });
    expect((await orchestrator.startSaga('order', {}, keyed('k1', {}))).id).toBe('saga-1');
  });

  it('refuses a second saga with an id already taken, and an unknown kind of saga', async () => {
    const orchestrator = make();
    await orchestrator.startSaga('order', {}, { id: 'fixed' });
    await expect(orchestrator.startSaga('order', {}, { id: 'fixed' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: 'saga fixed already exists' });
    await expect(orchestrator.startSaga('teleport', {})).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'no saga definition named teleport' });
  });

  it('names a saga with a random UUID when no id generator is given', async () => {
    const orchestrator = new SagaOrchestrator({ state, events: bus, logger, definitions: [order], clock });
    const [a, b] = [await orchestrator.startSaga('order', {}), await orchestrator.startSaga('order', {})];
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(b.id).not.toBe(a.id);
  });

  it('accepts as a key 1-200 letters, digits and -_.: only, as its rule says', () => {
    for (const key of ['a', 'x'.repeat(200), 'order-42_v1.2:retry', 'A9']) expect(IDEMPOTENCY_KEY_PATTERN.test(key)).toBe(true);
    for (const key of ['', 'x'.repeat(201), 'a b', 'key!', ' a', 'a\n', 'ä']) expect(IDEMPOTENCY_KEY_PATTERN.test(key)).toBe(false);
    expect(IDEMPOTENCY_KEY_RULE).toBe('must be 1-200 characters of letters, digits and -_.:');
  });
});
