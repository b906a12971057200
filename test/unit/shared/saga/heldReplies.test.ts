/**
 * Replies kept on a parked saga's record are applied in the order they came, before what brought
 * the saga back, in one transition that writes the record without them: each applied once.
 */
import { begin, createRecord, type Transition } from '@trellis/kit/internal/saga/machine';
import { withHeldReplies } from '@trellis/kit/internal/saga/heldReplies';
import type { SagaDefinition, SagaRecord, SagaReply } from '@trellis/kit/internal/saga';

type Input = { n: number };
const retry = { maxAttempts: 3, backoffMs: 10, maxBackoffMs: 10 };
const definition: SagaDefinition<Input> = {
  name: 'order',
  steps: [
    { name: 'reserve', participant: 'catalog', command: 'reserveStock', compensation: 'releaseStock', payload: (input) => ({ n: input.n }), timeoutMs: 1000, retry },
    { name: 'charge', participant: 'payments', command: 'charge', compensation: 'refund', payload: (input) => ({ amount: input.n }), timeoutMs: 1000, retry },
    { name: 'ship', participant: 'orders', command: 'ship', payload: () => ({}), timeoutMs: 1000, retry },
  ],
};
const success = (stepIndex: number): SagaReply => ({ sagaId: 's1', stepIndex, action: 'command', outcome: 'success', result: { step: stepIndex } });

/** A saga whose first step's command was sent. */
const started = (): SagaRecord<Input> => begin(definition, createRecord(definition, 's1', { n: 2 }, 0), 0).record;

describe('withHeldReplies', () => {
  it('without held replies, is exactly what follows: the same transition, or nothing', () => {
    const record = started();
    const transition: Transition<Input> = { record: { ...record, revision: 99 }, dispatch: [] };
    expect(withHeldReplies(definition, record, 5, () => transition)).toBe(transition);
    expect(withHeldReplies(definition, record, 5, () => null)).toBeNull();
  });

  it('applies the held replies in order, then what follows, sending the commands of both, and drops them from the record', () => {
    const record: SagaRecord<Input> = { ...started(), heldReplies: [success(0), success(1)] };
    const seen: Array<SagaRecord<Input>> = [];
    const result = withHeldReplies(definition, record, 5, (held) => {
      seen.push(held);
      // What brought it back: a third reply, applied on top of the held ones.
      return { record: { ...held, results: { ...held.results, ship: 'shipped' } }, dispatch: [{ stepIndex: 2, action: 'command', attempt: 9 }] };
    });
    expect(seen[0]!.heldReplies).toBeUndefined();
    expect(seen[0]!.steps.map((step) => step.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'RUNNING']);
    expect(result!.record.heldReplies).toBeUndefined();
    expect(result!.record.results).toEqual({ reserve: { step: 0 }, charge: { step: 1 }, ship: 'shipped' });
    // The held replies' commands (charge, then ship) first, then what follows' own.
    expect(result!.dispatch.map((d) => [d.stepIndex, d.action, d.attempt])).toEqual([
      [1, 'command', 1],
      [2, 'command', 1],
      [2, 'command', 9],
    ]);
  });

  it('keeps what the held replies did when nothing follows, and skips a stale one', () => {
    const record: SagaRecord<Input> = { ...started(), heldReplies: [success(0), success(0)] };
    const result = withHeldReplies(definition, record, 5, () => null);
    expect(result!.record.heldReplies).toBeUndefined();
    expect(result!.record.steps.map((step) => step.state)).toEqual(['SUCCEEDED', 'RUNNING', 'PENDING']);
    expect(result!.dispatch.map((d) => [d.stepIndex, d.action])).toEqual([[1, 'command']]);
  });
});
