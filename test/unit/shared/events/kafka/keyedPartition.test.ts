/**
 * The client-agnostic bookkeeping of a keyed Kafka consumer: keys at once, one key in order, a
 * bounded window, retries that hold back only their key, and a committable offset that never
 * passes an unsettled message.
 */
import { KeyedPartition } from '@trellis/kit/internal/events/kafka/keyedPartition';
import { message, scripted } from './scriptedDelivery';

/** Timers the test fires by hand. */
function manualTimers() {
  const timers: Array<{ ms: number; fire: () => void; cancelled: boolean }> = [];
  return {
    setTimer: (callback: () => void, ms: number) => {
      const timer = { ms, fire: callback, cancelled: false };
      timers.push(timer);
      return () => void (timer.cancelled = true);
    },
    fireAll: async () => {
      for (const timer of timers.splice(0)) if (!timer.cancelled) timer.fire();
      await new Promise((r) => setImmediate(r));
    },
    waiting: () => timers.filter((t) => !t.cancelled).map((t) => t.ms),
  };
}

describe('KeyedPartition', () => {
  it('runs different keys at once and one key strictly in order', async () => {
    const handler = scripted();
    const partition = new KeyedPartition({ deliver: handler.deliver, window: 10 });
    partition.open();
    for (const [offset, key] of [[0, 'a'], [1, 'b'], [2, 'a'], [3, 'c']] as const) expect(partition.offer(message(offset, key))).toBe('taken');
    expect(handler.running()).toEqual(['a@0', 'b@1', 'c@3']);
    expect(partition.running).toBe(3);
    await handler.finish('a@0');
    expect(handler.running()).toEqual(['a@2', 'b@1', 'c@3']);
    expect(handler.attempts).toEqual(['a@0#1', 'b@1#1', 'c@3#1', 'a@2#1']);
  });

  it('commits only the contiguous settled prefix: never past an unsettled message', async () => {
    const handler = scripted();
    const partition = new KeyedPartition({ deliver: handler.deliver, window: 10 });
    expect(partition.committable).toBeUndefined();
    partition.open();
    partition.offer(message(5, 'a'));
    partition.offer(message(6, 'b'));
    partition.offer(message(8, 'c'));
    expect(partition.committable).toBe('5');
    await handler.finish('b@6');
    await handler.finish('c@8');
    expect(partition.committable).toBe('5');
    await handler.finish('a@5');
    // Offsets may have gaps (compaction, transaction markers): the next to commit is after the last taken.
    expect(partition.committable).toBe('9');
    expect(partition.lastTaken).toBe('8');
  });

  it('takes at most `window` messages past the first unsettled one, and ignores messages it already took', async () => {
    const handler = scripted();
    const partition = new KeyedPartition({ deliver: handler.deliver, window: 2 });
    partition.open();
    expect(partition.offer(message(0, 'a'))).toBe('taken');
    expect(partition.offer(message(1, 'b'))).toBe('taken');
    expect(partition.offer(message(2, 'c'))).toBe('full');
    await handler.finish('b@1');
    // b is settled but a is not: the window counts from the first unsettled message.
    expect(partition.offer(message(2, 'c'))).toBe('full');
    await handler.finish('a@0');
    expect(partition.offer(message(1, 'b'))).toBe('known');
    expect(partition.offer(message(2, 'c'))).toBe('taken');
    expect(handler.running()).toEqual(['c@2']);
  });

  it('holds back only the failed key until its retry, whose attempt count grows', async () => {
    const handler = scripted();
    const timers = manualTimers();
    const partition = new KeyedPartition({ deliver: handler.deliver, window: 10, setTimer: timers.setTimer });
    partition.open();
    partition.offer(message(0, 'a'));
    partition.offer(message(1, 'a'));
    partition.offer(message(2, 'b'));
    await handler.finish('a@0', { retryInMs: 40 });
    expect(timers.waiting()).toEqual([40]);
    expect(handler.running()).toEqual(['b@2']);
    partition.offer(message(3, 'b'));
    await handler.finish('b@2');
    await handler.finish('b@3');
    expect(partition.hasRetries).toBe(true);
    expect(partition.committable).toBe('0');
    await timers.fireAll();
    expect(handler.running()).toEqual(['a@0']);
    await handler.finish('a@0');
    await handler.finish('a@1');
    expect(handler.attempts).toEqual(['a@0#1', 'b@2#1', 'b@3#1', 'a@0#2', 'a@1#1']);
    expect(partition.committable).toBe('4');
    expect(partition.hasRetries).toBe(false);
  });

  it('starts nothing while closed: a retry due then waits for open() and is announced', async () => {
    const handler = scripted();
    const timers = manualTimers();
    const onDue = jest.fn();
    const partition = new KeyedPartition({ deliver: handler.deliver, window: 10, setTimer: timers.setTimer, onDue });
    partition.open();
    partition.offer(message(0, 'a'));
    await handler.finish('a@0', { retryInMs: 10 });
    partition.close();
    partition.offer(message(1, 'b'));
    expect(handler.running()).toEqual([]);
    await timers.fireAll();
    expect(onDue).toHaveBeenCalledTimes(1);
    expect(handler.running()).toEqual([]);
    partition.open();
    expect(handler.running()).toEqual(['a@0', 'b@1']);
  });

  it('idle() resolves once the running handlers end; a revoked partition drops their outcomes and its retries', async () => {
    const handler = scripted();
    const timers = manualTimers();
    const onDue = jest.fn();
    const partition = new KeyedPartition({ deliver: handler.deliver, window: 10, setTimer: timers.setTimer, onDue });
    partition.open();
    partition.offer(message(0, 'a'));
    partition.offer(message(1, 'b'));
    await handler.finish('b@1', { retryInMs: 10 });
    let idle = false;
    const waiting = partition.idle().then(() => (idle = true));
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false);
    partition.revoke();
    await handler.finish('a@0');
    await waiting;
    expect(partition.committable).toBe('0');
    await timers.fireAll();
    expect(onDue).not.toHaveBeenCalled();
    expect(partition.offer(message(2, 'c'))).toBe('full');
    partition.open();
    expect(handler.running()).toEqual([]);
  });

  it('keeps unkeyed messages in partition order among themselves', async () => {
    const handler = scripted();
    const partition = new KeyedPartition({ deliver: handler.deliver, window: 10 });
    partition.open();
    partition.offer(message(0, null));
    partition.offer(message(1, null));
    expect(handler.running()).toEqual(['null@0']);
    await handler.finish('null@0');
    expect(handler.running()).toEqual(['null@1']);
  });

  it('retries a deliver that rejects instead of losing the message', async () => {
    const timers = manualTimers();
    let calls = 0;
    const partition = new KeyedPartition({
      deliver: async () => {
        calls += 1;
        if (calls === 1) throw new Error('bug');
        return 'settled';
      },
      window: 10,
      setTimer: timers.setTimer,
    });
    partition.open();
    partition.offer(message(0, 'a'));
    await new Promise((r) => setImmediate(r));
    expect(partition.committable).toBe('0');
    await timers.fireAll();
    expect(calls).toBe(2);
    expect(partition.committable).toBe('1');
  });

  it('starts nothing before open(), then every queued key at once, never a key already running or waiting for its retry', async () => {
    const handler = scripted();
    const timers = manualTimers();
    const partition = new KeyedPartition({ deliver: handler.deliver, window: 10, setTimer: timers.setTimer });
    partition.offer(message(0, 'a'));
    partition.offer(message(1, 'b'));
    expect(handler.running()).toEqual([]);
    partition.open();
    expect(handler.running()).toEqual(['a@0', 'b@1']);
    await handler.finish('b@1', { retryInMs: 10 });
    // Opened again (the next batch) while a runs and b waits for its retry: neither starts twice.
    partition.open();
    expect(handler.attempts).toEqual(['a@0#1', 'b@1#1']);
    expect(partition.hasRetries).toBe(true);
    await timers.fireAll();
    expect(handler.attempts).toEqual(['a@0#1', 'b@1#1', 'b@1#2']);
  });

  it('starts the next message of a key only while open: one settled after close() waits for the next open()', async () => {
    const handler = scripted();
    const partition = new KeyedPartition({ deliver: handler.deliver, window: 10 });
    partition.open();
    partition.offer(message(0, 'a'));
    partition.offer(message(1, 'a'));
    partition.close();
    await handler.finish('a@0');
    expect(handler.running()).toEqual([]);
    partition.open();
    expect(handler.running()).toEqual(['a@1']);
  });

  it('has no retries until a handler fails, and none once the retry settled', async () => {
    const handler = scripted();
    const timers = manualTimers();
    const partition = new KeyedPartition({ deliver: handler.deliver, window: 10, setTimer: timers.setTimer });
    partition.open();
    partition.offer(message(0, 'a'));
    expect(partition.hasRetries).toBe(false);
    await handler.finish('a@0', { retryInMs: 5 });
    expect(partition.hasRetries).toBe(true);
    await timers.fireAll();
    await handler.finish('a@0');
    expect(partition.hasRetries).toBe(false);
  });

  it('wakes a waiter when a retry comes due and when the partition is revoked', async () => {
    const handler = scripted();
    const timers = manualTimers();
    const partition = new KeyedPartition({ deliver: handler.deliver, window: 10, setTimer: timers.setTimer });
    partition.open();
    partition.offer(message(0, 'a'));
    await handler.finish('a@0', { retryInMs: 5 });
    const woken: string[] = [];
    void partition.changed().then(() => woken.push('retry due'));
    await timers.fireAll();
    expect(woken).toEqual(['retry due']);
    void partition.changed().then(() => woken.push('revoked'));
    partition.revoke();
    await new Promise((r) => setImmediate(r));
    expect(woken).toEqual(['retry due', 'revoked']);
  });

  it('keeps an empty key apart from no key', async () => {
    const handler = scripted();
    const partition = new KeyedPartition({ deliver: handler.deliver, window: 10 });
    partition.open();
    partition.offer(message(0, null));
    partition.offer(message(1, ''));
    expect(handler.running()).toEqual(['@1', 'null@0']);
  });

  it('keeps its offsets right across thousands of settled messages (the settled prefix is dropped as it grows)', async () => {
    const partition = new KeyedPartition({ deliver: async () => 'settled', window: 5000 });
    partition.open();
    for (let offset = 0; offset < 3000; offset++) {
      expect(partition.offer(message(offset, `k${offset % 7}`))).toBe('taken');
      if (offset % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await partition.idle();
    await new Promise((r) => setImmediate(r));
    expect(partition.committable).toBe('3000');
    expect(partition.offer(message(2999, 'k0'))).toBe('known');
    const handler = scripted();
    const next = new KeyedPartition({ deliver: handler.deliver, window: 2000 });
    next.open();
    for (let offset = 0; offset < 1500; offset++) next.offer(message(offset, `k${offset}`));
    // Settled from the last down, then the first: the prefix moves only when the first settles.
    for (let offset = 1499; offset >= 1; offset--) await handler.finish(`k${offset}@${offset}`);
    expect(next.committable).toBe('0');
    await handler.finish('k0@0');
    expect(next.committable).toBe('1500');
    next.offer(message(1500, 'x'));
    expect(next.committable).toBe('1500');
    await handler.finish('x@1500');
    expect(next.committable).toBe('1501');
  });
});

