/**
 * Replies kept on a parked saga's record (parking.ts) are applied, in the order they came, by the
 * first orchestrator that can drive the saga, before whatever brought it there (a reply, a tick);
 * the record is written without them in the same transition, so each is applied once.
 */
import { applyReply, type Transition } from './machine';
import type { SagaDefinition, SagaRecord } from './types';

export function withHeldReplies<Input>(
  definition: SagaDefinition<Input>,
  record: SagaRecord<Input>,
  now: number,
  then: (record: SagaRecord<Input>) => Transition<Input> | null,
): Transition<Input> | null {
  const { heldReplies: held = [], ...rest } = record;
  if (held.length === 0) return then(record);
  let current: SagaRecord<Input> = rest;
  const dispatch: Transition<Input>['dispatch'] = [];
  for (const reply of held) {
    // A stale one (a redelivery, a step already left) changes nothing, as it would have when it came.
    const applied = applyReply(definition, current, reply, now);
    if (!applied) continue;
    current = applied.record;
    dispatch.push(...applied.dispatch);
  }
  const after = then(current);
  return after ? { record: after.record, dispatch: [...dispatch, ...after.dispatch] } : { record: current, dispatch };
}
