/**
 * The produce coalescer, client-agnostic: publishes ready within the linger share one request, one
 * request is in flight at a time (what comes meanwhile goes in the next, in order), each caller's
 * promise follows its request's outcome or its own deadline, and flush sends what is queued.
 * Time runs by hand; the client is a fake whose requests the test settles.
 */
import { ProduceCoalescer, type TopicMessages } from '@trellis/kit/internal/events/kafka/coalescer';
import { TimedOut } from '@trellis/kit/internal/events/kafka/timeout';
import { ManualClock } from '@trellis/kit/testing';

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A client whose requests stay open until the test answers them. */
class FakeClient {
  readonly requests: Array<{ batch: TopicMessages[]; succeed: () => void; fail: (error: Error) => void }> = [];
  send = (batch: TopicMessages[]): Promise<void> =>
    new Promise<void>((resolve, reject) => this.requests.push({ batch, succeed: resolve, fail: reject }));
  /** The values each request carried, per topic. */
  sent(): Array<Record<string, string[]>> {
    return this.requests.map(({ batch }) => Object.fromEntries(batch.map(({ topic, messages }) => [topic, messages.map((m) => m.value)])));
  }
}

/** Tracks a publish's promise so a test can ask whether it settled, and how. */
function watch(promise: Promise<void>) {
  const state: { outcome: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { outcome: 'pending' };
  promise.then(
    () => (state.outcome = 'resolved'),
    (error: unknown) => Object.assign(state, { outcome: 'rejected', error }),
  );
  return state;
}

function setup(options: { lingerMs?: number; timeoutMs?: number; maxBatchBytes?: number } = {}) {
  const clock = new ManualClock();
  const client = new FakeClient();
  const coalescer = new ProduceCoalescer(client.send, { lingerMs: options.lingerMs ?? 5, timeoutMs: options.timeoutMs ?? 1000, maxBatchBytes: options.maxBatchBytes, timers: clock });
  return { clock, client, coalescer };
}

const message = (value: string, key = value) => ({ key, value });

describe('ProduceCoalescer', () => {
  it('sends nothing before the linger ends, then every publish of it in one request, topics merged in publish order', async () => {
    const { clock, client, coalescer } = setup({ lingerMs: 5 });
    const a = watch(coalescer.publish('commands', [message('c1')]));
    clock.advance(2);
    const b = watch(coalescer.publish('replies', [message('r1')]));
    const c = watch(coalescer.publish('commands', [message('c2'), message('c3')]));
    clock.advance(2);
    await settle();
    expect(client.requests).toHaveLength(0);

    clock.advance(1);
    expect(client.sent()).toEqual([{ commands: ['c1', 'c2', 'c3'], replies: ['r1'] }]);
    await settle();
    expect([a.outcome, b.outcome, c.outcome]).toEqual(['pending', 'pending', 'pending']);

    client.requests[0].succeed();
    await settle();
    expect([a.outcome, b.outcome, c.outcome]).toEqual(['resolved', 'resolved', 'resolved']);
  });

  it('keeps one request in flight: what is published meanwhile waits for it and goes in the next, so a key keeps its order', async () => {
    const { clock, client, coalescer } = setup({ lingerMs: 5 });
    const first = watch(coalescer.publish('t', [message('k-1', 'k')]));
    clock.advance(5);
    const second = watch(coalescer.publish('t', [message('k-2', 'k')]));
    const third = watch(coalescer.publish('t', [message('other', 'x')]));
    clock.advance(50);
    await settle();
    expect(client.sent()).toEqual([{ t: ['k-1'] }]);

    client.requests[0].succeed();
    await settle();
    // The next request leaves once the first is answered, with both later publishes (their linger is long over).
    expect(client.sent()).toEqual([{ t: ['k-1'] }, { t: ['k-2', 'other'] }]);
    expect([first.outcome, second.outcome, third.outcome]).toEqual(['resolved', 'pending', 'pending']);
    client.requests[1].succeed();
    await settle();
    expect([second.outcome, third.outcome]).toEqual(['resolved', 'resolved']);
  });

  it('waits out the linger of publishes that came while a short request was in flight', async () => {
    const { clock, client, coalescer } = setup({ lingerMs: 5 });
    void coalescer.publish('t', [message('a')]);
    clock.advance(5);
    void coalescer.publish('t', [message('b')]);
    client.requests[0].succeed();
    await settle();
    expect(client.requests).toHaveLength(1);
    clock.advance(5);
    expect(client.sent()).toEqual([{ t: ['a'] }, { t: ['b'] }]);
  });

  it('fails every caller of a refused request with its error, and sends the next request all the same', async () => {
    const { clock, client, coalescer } = setup({ lingerMs: 1 });
    const a = watch(coalescer.publish('t', [message('a')]));
    const b = watch(coalescer.publish('u', [message('b')]));
    clock.advance(1);
    const c = watch(coalescer.publish('t', [message('c')]));
    const refusal = new Error('NOT_LEADER_FOR_PARTITION');
    client.requests[0].fail(refusal);
    await settle();
    expect(a).toEqual({ outcome: 'rejected', error: refusal });
    expect(b).toEqual({ outcome: 'rejected', error: refusal });
    clock.advance(1);
    expect(client.sent()[1]).toEqual({ t: ['c'] });
    client.requests[1].succeed();
    await settle();
    expect(c.outcome).toBe('resolved');
  });

  it('fails a publish at its own deadline with TimedOut; one still queued then is never sent', async () => {
    const { clock, client, coalescer } = setup({ lingerMs: 1, timeoutMs: 100 });
    const stuck = watch(coalescer.publish('t', [message('in-flight')]));
    clock.advance(1);
    expect(client.requests).toHaveLength(1);
    clock.advance(60);
    const queued = watch(coalescer.publish('t', [message('queued')]));
    const later = watch(coalescer.publish('t', [message('later')]));
    clock.advance(39);
    await settle();
    expect(stuck.outcome).toBe('rejected');
    expect(stuck.error).toBeInstanceOf(TimedOut);
    expect(queued.outcome).toBe('pending');

    clock.advance(61);
    await settle();
    expect(queued.error).toBeInstanceOf(TimedOut);
    expect(later.error).toBeInstanceOf(TimedOut);
    // The client bounds its request too; once it gives up, the expired publishes are not sent.
    client.requests[0].fail(new TimedOut('client gave up'));
    await settle();
    const fresh = watch(coalescer.publish('t', [message('fresh')]));
    clock.advance(1);
    expect(client.sent()).toEqual([{ t: ['in-flight'] }, { t: ['fresh'] }]);
    client.requests[1].succeed();
    await settle();
    expect(fresh.outcome).toBe('resolved');
    expect(stuck.outcome).toBe('rejected');
  });

  it('starts a request at once when the queue reaches the size bound, and a publish larger than the bound goes alone', async () => {
    // Each of a, b, c is about 270 bytes: two fit under 600, the third fills the queue past it.
    const { client, coalescer } = setup({ lingerMs: 1000, maxBatchBytes: 600 });
    void coalescer.publish('t', [message('a'.repeat(200), 'a')]);
    void coalescer.publish('t', [message('b'.repeat(200), 'b')]);
    expect(client.requests).toHaveLength(0);
    void coalescer.publish('t', [message('c'.repeat(200), 'c')]);
    // Full: a and b go now (c would overflow the request); c is ready and goes next.
    expect(client.sent().map((request) => request.t.map((value) => value[0]))).toEqual([['a', 'b']]);
    client.requests[0].succeed();
    await settle();
    expect(client.sent().map((request) => request.t.map((value) => value[0]))).toEqual([['a', 'b'], ['c']]);
    client.requests[1].succeed();
    await settle();

    void coalescer.publish('t', [message('d'.repeat(2000), 'd')]);
    expect(client.sent()[2].t.map((value) => value[0])).toEqual(['d']);
  });

  it('with no linger sends a publish at once, still one request at a time', async () => {
    const { client, coalescer } = setup({ lingerMs: 0 });
    void coalescer.publish('t', [message('a')]);
    void coalescer.publish('t', [message('b')]);
    void coalescer.publish('t', [message('c')]);
    expect(client.sent()).toEqual([{ t: ['a'] }]);
    client.requests[0].succeed();
    await settle();
    expect(client.sent()).toEqual([{ t: ['a'] }, { t: ['b', 'c'] }]);
  });

  it('flush sends what is queued without waiting out the linger and resolves once every request is answered', async () => {
    const { client, coalescer } = setup({ lingerMs: 10_000 });
    const a = watch(coalescer.publish('t', [message('a')]));
    const flushed = watch(coalescer.flush());
    expect(client.sent()).toEqual([{ t: ['a'] }]);
    const b = watch(coalescer.publish('t', [message('b')]));
    await settle();
    expect(flushed.outcome).toBe('pending');
    client.requests[0].succeed();
    await settle();
    expect(client.sent()).toEqual([{ t: ['a'] }, { t: ['b'] }]);
    expect(flushed.outcome).toBe('pending');
    client.requests[1].fail(new Error('broker gone'));
    await settle();
    expect([a.outcome, b.outcome, flushed.outcome]).toEqual(['resolved', 'rejected', 'resolved']);
  });

  it('fails the callers of a request whose client throws instead of returning a promise', async () => {
    const clock = new ManualClock();
    const coalescer = new ProduceCoalescer(
      () => {
        throw new Error('not connected');
      },
      { lingerMs: 1, timeoutMs: 1000, timers: clock },
    );
    const a = watch(coalescer.publish('t', [message('a')]));
    clock.advance(1);
    await settle();
    expect(a.outcome).toBe('rejected');
    expect((a.error as Error).message).toBe('not connected');
  });

  // A message's estimated size: 70 bytes of overhead, its key, its value, and each header's name and value plus 4.
  it('counts a request full at exactly the size bound, and fills it to exactly the bound', async () => {
    // Each publish is 72 bytes (key 'k', value 'v'): two make 144.
    const { client, coalescer } = setup({ lingerMs: 1000, maxBatchBytes: 144 });
    void coalescer.publish('t', [message('v', 'k')]);
    expect(client.requests).toHaveLength(0);
    void coalescer.publish('t', [message('v', 'k')]);
    void coalescer.publish('t', [message('w', 'k')]);
    expect(client.sent()).toEqual([{ t: ['v', 'v'] }]);
  });

  it('counts keys and headers in a message size', async () => {
    // 70 + 229 + 1 = 300 bytes, and 70 + 1 + 1 + (2 + 223 + 4) = 301: each fills a 300-byte request alone.
    const keyed = setup({ lingerMs: 1000, maxBatchBytes: 300 });
    void keyed.coalescer.publish('t', [message('v', 'k'.repeat(228))]);
    expect(keyed.client.requests).toHaveLength(0);
    const longer = setup({ lingerMs: 1000, maxBatchBytes: 300 });
    void longer.coalescer.publish('t', [message('v', 'k'.repeat(229))]);
    expect(longer.client.requests).toHaveLength(1);
    const headerOnly = setup({ lingerMs: 1000, maxBatchBytes: 300 });
    void headerOnly.coalescer.publish('t', [{ key: 'k', value: 'v', headers: { hh: 'x'.repeat(223) } }]);
    expect(headerOnly.client.requests).toHaveLength(1);
  });

  it('forgets the size of a publish that expired while queued, and says its deadline', async () => {
    // Each publish is 72 bytes; the bound is two of them. The first expires before the linger ends.
    const { clock, client, coalescer } = setup({ lingerMs: 15, timeoutMs: 10, maxBatchBytes: 144 });
    const expired = watch(coalescer.publish('t', [message('o', 'k')]));
    clock.advance(10);
    await settle();
    expect(expired.outcome).toBe('rejected');
    expect((expired.error as Error).message).toBe('no acknowledgement within 10 ms');
    const fresh = watch(coalescer.publish('t', [message('v', 'k')]));
    // 72 bytes queued, not 144: the request waits for the linger.
    expect(client.requests).toHaveLength(0);
    clock.advance(5);
    expect(client.sent()).toEqual([{ t: ['v'] }]);
    client.requests[0].succeed();
    await settle();
    expect(fresh.outcome).toBe('resolved');
  });
});

