/**
 * Deadlines at the participant, on the embedded backends with a hand-moved clock: a command past
 * its deadline (and the allowed skew) is refused as expired, never applied late; one whose
 * dependency stays down stops being retried at its deadline and frees its key; a refusal says
 * whether retrying may fix it, and one that may is not recorded.
 */
import { InMemoryEventBus, type EventMessage } from '@trellis/kit/internal/events';
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import { createLogger } from '@trellis/kit/internal/logging';
import { BackendUnavailableError } from '@trellis/kit/internal/errors';
import { DEFAULT_DEADLINE_SKEW_MS, dedupeKey, handleSagaCommands, SagaRefusal, type Clock, type ParticipantOptions, type SagaCommand, type SagaHandler, type SagaReply } from '@trellis/kit/internal/saga';

const logger = createLogger({ service: 'test', level: 'silent' });
const T0 = 1_700_000_000_000;

const command = (extra: Partial<SagaCommand> = {}): SagaCommand => ({
  sagaId: 's1',
  saga: 'demo',
  step: 'charge',
  stepIndex: 1,
  action: 'command',
  name: 'charge',
  attempt: 1,
  payload: {},
  ...extra,
});

describe('a participant and the deadline its command carries', () => {
  let bus: InMemoryEventBus;
  let state: InMemoryStateStore;
  let now: number;
  let replies: SagaReply[];
  let waiters: Array<{ count: number; resolve: () => void }>;
  let applied: string[];
  const clock: Clock = { now: () => now, setTimeout: (callback) => (callback(), { clear: () => undefined }) };

  const repliesReach = (count: number) =>
    new Promise<void>((resolve) => {
      if (replies.length >= count) resolve();
      else waiters.push({ count, resolve });
    });
  const send = (c: SagaCommand) => bus.publish('saga.commands.pay', { key: c.sagaId, value: JSON.stringify(c) });
  const start = (handlers: Record<string, SagaHandler>, options: Partial<ParticipantOptions> = {}) => handleSagaCommands('pay', handlers, { events: bus, state, logger, clock, ...options });
  const charge: SagaHandler = (async (_p: never, { command: c }) => (applied.push(`${c.sagaId}/${c.action}`), { result: 'charged' })) as SagaHandler;

  beforeEach(async () => {
    now = T0;
    bus = new InMemoryEventBus();
    state = new InMemoryStateStore({ now: () => now });
    replies = [];
    waiters = [];
    applied = [];
    await bus.subscribe({
      groupId: 'replies',
      topics: ['saga.replies'],
      fromBeginning: true,
      handler: async (m: EventMessage) => {
        replies.push(JSON.parse(m.value) as SagaReply);
        for (const w of waiters.filter((w) => replies.length >= w.count)) w.resolve();
      },
    });
  });
  afterEach(() => bus.close());

  it('applies a command up to its deadline plus the allowed skew, and refuses it as expired one millisecond later, without applying or recording it', async () => {
    expect(DEFAULT_DEADLINE_SKEW_MS).toBe(1000);
    await start({ charge, refund: charge });
    now = T0 + 1000;
    await send(command({ sagaId: 'on-time', deadline: T0 }));
    await repliesReach(1);
    now = T0 + 1001;
    await send(command({ sagaId: 'late', deadline: T0 }));
    await send(command({ sagaId: 'late', action: 'compensation', name: 'refund', deadline: T0 }));
    await repliesReach(3);

    expect(replies[0]).toEqual({ sagaId: 'on-time', stepIndex: 1, action: 'command', outcome: 'success', result: 'charged' });
    expect(replies.slice(1)).toEqual([
      { sagaId: 'late', stepIndex: 1, action: 'command', outcome: 'failure', expired: true, error: `charge expired: its deadline passed 1001 ms ago (${new Date(T0).toISOString()}); not applied` },
      { sagaId: 'late', stepIndex: 1, action: 'compensation', outcome: 'failure', expired: true, error: `refund expired: its deadline passed 1001 ms ago (${new Date(T0).toISOString()}); not applied` },
    ]);
    expect(applied).toEqual(['on-time/command']);
    expect(await state.get(dedupeKey('late', 1, 'command'))).toBeNull();
  });

  it('takes its own skew, and applies a command with no deadline (from an orchestrator before deadlines) whatever the time', async () => {
    await start({ charge }, { deadlineSkewMs: 0 });
    now = T0 + 1;
    await send(command({ sagaId: 'strict', deadline: T0 }));
    await send(command({ sagaId: 'legacy' }));
    await repliesReach(2);
    expect(replies.map((r) => [r.sagaId, r.outcome, r.expired])).toEqual([
      ['strict', 'failure', true],
      ['legacy', 'success', undefined],
    ]);
  });

  it('stops retrying a command whose dependency stays down once its deadline passes, replies expired, and frees its key for the next command', async () => {
    let tries = 0;
    const down: SagaHandler = (async () => {
      tries += 1;
      // The dependency is down; the clock runs on while the bus retries, past the deadline on the third try.
      now = T0 + tries * 600;
      throw new BackendUnavailableError('ledger', 'connection refused');
    }) as SagaHandler;
    await start({ charge: down, refund: charge }, { deadlineSkewMs: 0 });
    await send(command({ deadline: T0 + 1500 }));
    await send(command({ action: 'compensation', name: 'refund', deadline: T0 + 60_000 }));
    await repliesReach(2);
    // Tried at T0, then at T0+600 and T0+1200 (still in time); the retry after the third failure finds it 300 ms late.
    expect(tries).toBe(3);
    expect(replies[0]).toMatchObject({ action: 'command', outcome: 'failure', expired: true, error: expect.stringMatching(/^charge expired: its deadline passed 300 ms ago/) });
    expect(replies[1]).toMatchObject({ action: 'compensation', outcome: 'success' });
  });

  it('lets the bus retry a retriable failure in place before the deadline', async () => {
    let tries = 0;
    const flaky: SagaHandler = (async () => {
      tries += 1;
      if (tries === 1) throw new BackendUnavailableError('ledger', 'connection refused');
      return { result: 'second try' };
    }) as SagaHandler;
    await start({ charge: flaky }, { deadlineSkewMs: 0 });
    await send(command({ deadline: T0 + 1500 }));
    await repliesReach(1);
    expect(tries).toBe(2);
    expect(replies[0]).toMatchObject({ outcome: 'success', result: 'second try' });
  });

  it('replies a refusal retrying may fix as retriable and does not record it, so the next attempt runs again', async () => {
    let tries = 0;
    const busy: SagaHandler = (async () => {
      tries += 1;
      if (tries === 1) throw new SagaRefusal('provider asks to try later', { retriable: true });
      return { result: 'charged' };
    }) as SagaHandler;
    await start({ charge: busy });
    await send(command({ deadline: T0 + 60_000 }));
    await repliesReach(1);
    expect(replies[0]).toEqual({ sagaId: 's1', stepIndex: 1, action: 'command', outcome: 'failure', error: 'provider asks to try later', retriable: true });
    expect(await state.get(dedupeKey('s1', 1, 'command'))).toBeNull();
    await send(command({ attempt: 2, deadline: T0 + 60_000 }));
    await repliesReach(2);
    expect(replies[1]).toMatchObject({ outcome: 'success', result: 'charged' });
  });

  it('records a refusal retrying cannot fix, so a redelivery replays it', async () => {
    let tries = 0;
    const declined: SagaHandler = (async () => {
      tries += 1;
      throw new SagaRefusal('card declined');
    }) as SagaHandler;
    await start({ charge: declined });
    await send(command());
    await send(command({ attempt: 2 }));
    await repliesReach(2);
    expect(tries).toBe(1);
    expect(replies.map((r) => [r.outcome, r.retriable, r.error])).toEqual([
      ['failure', false, 'card declined'],
      ['failure', false, 'card declined'],
    ]);
  });
});
