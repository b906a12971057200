/**
 * The participant's guarantees at their boundaries, on the embedded backends with time run forward
 * by hand: `context.once` waits exactly `onceWaitMs` for another run's call, dedupe and once records
 * live exactly `dedupeTtlMs`, and the check on the other action makes a command that lost the race
 * to its compensation never apply. Each test waits on the replies it expects, never on a timer.
 */
import { InMemoryEventBus, type EventMessage } from '@trellis/kit/internal/events';
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import { createLogger } from '@trellis/kit/internal/logging';
import { dedupeKey, handleSagaCommands, onceIdempotencyKey, onceKey, SagaRefusal, type Clock, type ParticipantOptions, type SagaCommand, type SagaHandler, type SagaReply } from '@trellis/kit/internal/saga';

const logger = createLogger({ service: 'test', level: 'silent' });
const T0 = 1_000_000;
const DAY = 24 * 3600_000;

/** Virtual time: every wait jumps the clock forward by its length, and work planned for a moment runs when the clock reaches it. */
class JumpingClock implements Clock {
  current = T0;
  private planned: Array<{ at: number; run: () => Promise<void> | void }> = [];
  now = () => this.current;
  setTimeout = (callback: () => void, ms: number) => {
    this.current += ms;
    const due = this.planned.filter((p) => p.at <= this.current);
    this.planned = this.planned.filter((p) => p.at > this.current);
    void (async () => {
      for (const p of due) await p.run();
      callback();
    })();
    return { clear: () => undefined };
  };
  /** Runs `run` once the clock reaches `at` (before the waiter that crossed it goes on). */
  at(at: number, run: () => Promise<void> | void): void {
    this.planned.push({ at, run });
  }
}

const command = (action: 'command' | 'compensation', name: string, extra: Partial<SagaCommand> = {}): SagaCommand => ({
  sagaId: 's1',
  saga: 'demo',
  step: 'charge',
  stepIndex: 1,
  action,
  name,
  attempt: 1,
  payload: { amount: 5 },
  ...extra,
});

describe('handleSagaCommands at its boundaries', () => {
  let bus: InMemoryEventBus;
  let state: InMemoryStateStore;
  let clock: JumpingClock;
  let replies: Array<{ reply: SagaReply; at: number; headers: Record<string, string> }>;
  let waiters: Array<{ count: number; resolve: () => void }>;
  let calls: Array<{ name: string; at: number }>;

  /** Resolves once `count` replies in all have arrived. */
  const repliesReach = (count: number) =>
    new Promise<void>((resolve) => {
      if (replies.length >= count) resolve();
      else waiters.push({ count, resolve });
    });

  const send = (c: SagaCommand, headers: Record<string, string> = {}) => bus.publish('saga.commands.pay', { key: c.sagaId, value: JSON.stringify(c), headers });
  const start = (handlers: Record<string, SagaHandler>, options: Partial<ParticipantOptions> = {}) => handleSagaCommands('pay', handlers, { events: bus, state, logger, clock, ...options });

  beforeEach(async () => {
    clock = new JumpingClock();
    bus = new InMemoryEventBus();
    state = new InMemoryStateStore({ now: () => clock.current });
    replies = [];
    waiters = [];
    calls = [];
    await bus.subscribe({
      groupId: 'replies',
      topics: ['saga.replies'],
      fromBeginning: true,
      handler: async (m: EventMessage) => {
        replies.push({ reply: JSON.parse(m.value) as SagaReply, at: clock.current, headers: m.headers });
        for (const w of waiters.filter((w) => replies.length >= w.count)) w.resolve();
      },
    });
  });
  afterEach(() => bus.close());

  const provider = (name = 'provider', options?: { repeatable?: boolean }): SagaHandler =>
    (async (_p: never, { once }) => ({ result: await once(name, async () => (calls.push({ name, at: clock.current }), `${name}-done`), options) })) as SagaHandler;
  const startedByAnother = (action: 'command' | 'compensation' = 'command', name = 'provider') => state.set(onceKey('s1', 1, action, name), JSON.stringify({ state: 'started' }));

  describe('context.once, when an earlier run started the call', () => {
    it('waits exactly the default 2000 ms, then refuses as uncertain without calling', async () => {
      await startedByAnother();
      await start({ charge: provider() }, {});
      await send(command('command', 'charge'));
      await repliesReach(1);
      expect(calls).toEqual([]);
      expect(replies[0].at - T0).toBe(2000);
      expect(replies[0].reply).toEqual({
        sagaId: 's1',
        stepIndex: 1,
        action: 'command',
        outcome: 'failure',
        uncertain: true,
        retriable: false,
        error: 'charge: the outcome of provider is unknown (an earlier delivery started it and never finished); not calling twice',
      });
    });

    it('waits its own onceWaitMs', async () => {
      await startedByAnother();
      await start({ charge: provider() }, { onceWaitMs: 300 });
      await send(command('command', 'charge'));
      await repliesReach(1);
      expect(replies[0].at - T0).toBe(300);
      expect(replies[0].reply).toMatchObject({ outcome: 'failure', uncertain: true });
    });

    it('takes the other run result when it finishes at the very end of the wait, and never calls', async () => {
      await startedByAnother();
      clock.at(T0 + 2000, () => state.set(onceKey('s1', 1, 'command', 'provider'), JSON.stringify({ state: 'done', result: 'theirs' })));
      await start({ charge: provider() });
      await send(command('command', 'charge'));
      await repliesReach(1);
      expect(calls).toEqual([]);
      expect(replies[0].reply).toEqual({ sagaId: 's1', stepIndex: 1, action: 'command', outcome: 'success', result: 'theirs' });
    });

    it('calls itself as soon as the other run gives its claim up (its call failed)', async () => {
      await startedByAnother();
      clock.at(T0 + 100, () => state.delete(onceKey('s1', 1, 'command', 'provider')));
      await start({ charge: provider() });
      await send(command('command', 'charge'));
      await repliesReach(1);
      expect(calls).toEqual([{ name: 'provider', at: T0 + 100 }]);
      expect(replies[0].reply).toMatchObject({ outcome: 'success', result: 'provider-done' });
    });

    it('takes over a repeatable call exactly when the wait ends, not before, and records it done', async () => {
      await startedByAnother('compensation', 'refund');
      await start({ refund: provider('refund', { repeatable: true }) });
      await send(command('compensation', 'refund'));
      await repliesReach(1);
      expect(calls).toEqual([{ name: 'refund', at: T0 + 2000 }]);
      expect(replies[0].reply).toMatchObject({ outcome: 'success', result: 'refund-done' });
      expect(JSON.parse((await state.get(onceKey('s1', 1, 'compensation', 'refund')))!)).toEqual({ state: 'done', result: 'refund-done' });
    });
  });

  describe('context.once in one run', () => {
    it('calls once per name, even when the handler asks twice or runs again after a write conflict', async () => {
      let runs = 0;
      const charge: SagaHandler = (async (_p: never, { once, read }) => {
        runs += 1;
        const balance = await read('balance');
        const first = await once('capture', async () => (calls.push({ name: 'capture', at: clock.current }), { id: 'cap-1' }));
        const again = await once('capture', async () => (calls.push({ name: 'capture again', at: clock.current }), { id: 'cap-2' }));
        // Someone else writes the balance during the first run: its commit conflicts and it decides again.
        if (runs === 1) await state.set('balance', '100');
        return { writes: [{ key: 'balance', expectedVersion: balance?.version ?? 0, value: String(Number(balance?.value ?? 0) - 5) }], result: { first, again } };
      }) as SagaHandler;
      await start({ charge });
      await send(command('command', 'charge'));
      await repliesReach(1);
      expect(runs).toBe(2);
      expect(calls.map((c) => c.name)).toEqual(['capture']);
      expect(replies[0].reply.result).toEqual({ first: { id: 'cap-1' }, again: { id: 'cap-1' } });
      expect(await state.get('balance')).toBe('95');
      expect(JSON.parse((await state.get(onceKey('s1', 1, 'command', 'capture')))!)).toEqual({ state: 'done', result: { id: 'cap-1' } });
    });

    it('hands each call the outside system’s idempotency key: the same on a run after a lost record, distinct per step, action and name', async () => {
      const keys: string[] = [];
      const keyed = (name: string): SagaHandler => (async (_p: never, { once }) => ({ result: await once(name, async (key) => (keys.push(key), key)) })) as SagaHandler;
      await start({ charge: keyed('capture'), refund: keyed('refund') });
      await send(command('command', 'charge'));
      await repliesReach(1);
      // The once record and the outcome lost (a failover): the call runs again, with the same key.
      await Promise.all([state.delete(onceKey('s1', 1, 'command', 'capture')), state.delete(dedupeKey('s1', 1, 'command'))]);
      await send(command('command', 'charge'));
      await repliesReach(2);
      await send(command('compensation', 'refund'));
      await send(command('command', 'charge', { sagaId: 's2', stepIndex: 2 }));
      await repliesReach(4);
      // The last two run side by side (the compensation's check waits on the command's record): any order.
      expect(keys.slice(0, 2)).toEqual(['s1:1:command:capture', 's1:1:command:capture']);
      expect(keys.slice(2).sort()).toEqual(['s1:1:compensation:refund', 's2:2:command:capture']);
      expect(keys[0]).toBe(onceIdempotencyKey('s1', 1, 'command', 'capture'));
    });

    it('records a call that returned nothing as done, so a later run does not call it again', async () => {
      const notify: SagaHandler = (async (_p: never, { once }) => {
        await once('mail', async () => void calls.push({ name: 'mail', at: clock.current }));
        return {};
      }) as SagaHandler;
      await start({ charge: notify });
      await send(command('command', 'charge'));
      await repliesReach(1);
      expect(JSON.parse((await state.get(onceKey('s1', 1, 'command', 'mail')))!)).toEqual({ state: 'done', result: null });
      // A handler that returns no result replies null.
      expect(replies[0].reply).toEqual({ sagaId: 's1', stepIndex: 1, action: 'command', outcome: 'success', result: null });
    });
  });

  describe('records live dedupeTtlMs', () => {
    it('keeps dedupe and once records for ever with dedupeTtlMs 0', async () => {
      await start({ charge: provider() }, { dedupeTtlMs: 0 });
      await send(command('command', 'charge'));
      await repliesReach(1);
      clock.current = T0 + 10_000 * DAY;
      expect(await state.get(dedupeKey('s1', 1, 'command'))).not.toBeNull();
      expect(await state.get(onceKey('s1', 1, 'command', 'provider'))).not.toBeNull();
    });

    const charge: SagaHandler = (async () => (calls.push({ name: 'charge', at: clock.current }), { result: calls.length })) as SagaHandler;

    it('replays a duplicate for 14 days by default (Kafka keeps offsets 7 days, then messages 7 days), and applies a command again once its record expired', async () => {
      await start({ charge });
      await send(command('command', 'charge'));
      await repliesReach(1);
      clock.current = T0 + 14 * DAY - 1;
      await send(command('command', 'charge'));
      await repliesReach(2);
      expect(calls).toHaveLength(1);
      clock.current = T0 + 14 * DAY;
      await send(command('command', 'charge'));
      await repliesReach(3);
      expect(replies.map((r) => r.reply.result)).toEqual([1, 1, 2]);
    });

    it('keeps dedupe and once records for its own dedupeTtlMs', async () => {
      await start({ charge: provider() }, { dedupeTtlMs: 1000 });
      await send(command('command', 'charge'));
      await repliesReach(1);
      clock.current = T0 + 999;
      expect(await state.get(dedupeKey('s1', 1, 'command'))).not.toBeNull();
      expect(await state.get(onceKey('s1', 1, 'command', 'provider'))).not.toBeNull();
      clock.current = T0 + 1000;
      expect(await state.get(dedupeKey('s1', 1, 'command'))).toBeNull();
      expect(await state.get(onceKey('s1', 1, 'command', 'provider'))).toBeNull();
    });

    it('lets a started record expire after dedupeTtlMs, so a run that crashed mid-call does not leave the step unknown for ever', async () => {
      const seen: Array<string | null> = [];
      const slow: SagaHandler = (async (_p: never, { once }) => {
        await once('provider', async () => {
          clock.current = T0 + 499;
          seen.push(await state.get(onceKey('s1', 1, 'command', 'provider')));
          clock.current = T0 + 500;
          seen.push(await state.get(onceKey('s1', 1, 'command', 'provider')));
          return 'ok';
        });
        return {};
      }) as SagaHandler;
      await start({ charge: slow }, { dedupeTtlMs: 500 });
      await send(command('command', 'charge'));
      await repliesReach(1);
      expect(seen).toEqual([JSON.stringify({ state: 'started' }), null]);
    });
  });

  describe('the other action of the step, checked at commit', () => {
    it('a command whose compensation commits while it runs is not applied: it decides again and replies a late command', async () => {
      const charge: SagaHandler = (async () => {
        calls.push({ name: 'charge', at: clock.current });
        // Another instance compensates this step meanwhile.
        if (calls.length === 1) await state.set(dedupeKey('s1', 1, 'compensation'), JSON.stringify({ outcome: 'success', result: 'nothing to undo' }));
        return { writes: [{ key: 'charged', expectedVersion: 0, value: 'yes' }], result: 'charged' };
      }) as SagaHandler;
      await start({ charge });
      await send(command('command', 'charge'));
      await repliesReach(1);
      expect(replies[0].reply).toEqual({ sagaId: 's1', stepIndex: 1, action: 'command', outcome: 'failure', error: 'charge arrived after its compensation; not applied' });
      expect(await state.get('charged')).toBeNull();
      expect(calls).toHaveLength(1);
    });

    it('a compensation whose command commits while it runs decides again and sees the command', async () => {
      const seen: Array<string | undefined> = [];
      const refund: SagaHandler = (async (_p: never, { outcomeOf }) => {
        const done = await outcomeOf('command');
        seen.push(done?.outcome);
        if (seen.length === 1) await state.set(dedupeKey('s1', 1, 'command'), JSON.stringify({ outcome: 'success', result: 'charged' }));
        return { result: done ? 'refunded' : 'nothing to refund' };
      }) as SagaHandler;
      await start({ refund });
      await send(command('compensation', 'refund'));
      await repliesReach(1);
      expect(seen).toEqual([undefined, 'success']);
      expect(replies[0].reply).toMatchObject({ action: 'compensation', outcome: 'success', result: 'refunded' });
    });
  });

  describe('refusals', () => {
    it('an uncertain refusal says so in the reply; a plain one carries no uncertain flag', async () => {
      const unsure: SagaHandler = (async () => {
        throw new SagaRefusal('provider timed out', { uncertain: true });
      }) as SagaHandler;
      const plain: SagaHandler = (async () => {
        throw new SagaRefusal('card declined');
      }) as SagaHandler;
      await start({ charge: unsure, reserve: plain });
      await send(command('command', 'charge'));
      await repliesReach(1);
      await send(command('command', 'reserve', { sagaId: 's2' }));
      await repliesReach(2);
      expect(replies.map((r) => r.reply)).toEqual([
        { sagaId: 's1', stepIndex: 1, action: 'command', outcome: 'failure', error: 'provider timed out', uncertain: true, retriable: false },
        { sagaId: 's2', stepIndex: 1, action: 'command', outcome: 'failure', error: 'card declined', retriable: false },
      ]);
      expect(new SagaRefusal('x')).toMatchObject({ code: 'SAGA_REFUSED', uncertain: false, retriable: false });
    });

    it('a compensation that applied is recorded with its writes', async () => {
      const partial: SagaHandler = (async () => ({ writes: [{ key: 'note', expectedVersion: 0, value: 'tried' }] })) as SagaHandler;
      await start({ refund: partial });
      await send(command('compensation', 'refund'));
      await repliesReach(1);
      expect(JSON.parse((await state.get(dedupeKey('s1', 1, 'compensation')))!)).toEqual({ outcome: 'success', result: null });
      expect(await state.get('note')).toBe('tried');
    });
  });

  describe('wiring', () => {
    it('creates its topics, reads commands sent before it started, and sends no headers the command did not carry', async () => {
      await send(command('command', 'charge'));
      const sub = await start({ charge: provider() });
      await repliesReach(1);
      expect(replies[0].headers).toEqual({});
      expect(replies[0].reply.outcome).toBe('success');
      await sub.stop();
    });

    it('shares the work between instances of one participant: one reply per command', async () => {
      await start({ charge: provider() });
      await start({ charge: provider() });
      for (const sagaId of ['a', 'b', 'c']) await send(command('command', 'charge', { sagaId }));
      await repliesReach(3);
      await send(command('command', 'charge', { sagaId: 'end' }));
      await repliesReach(4);
      expect(replies.map((r) => r.reply.sagaId).sort()).toEqual(['a', 'b', 'c', 'end']);
    });

    it('carries the correlation id alone when there is no trace context', async () => {
      await start({ charge: provider() });
      await send(command('command', 'charge'), { 'x-correlation-id': 'c-9' });
      await repliesReach(1);
      expect(replies[0].headers).toEqual({ 'x-correlation-id': 'c-9' });
    });
  });
});
