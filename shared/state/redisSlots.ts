/**
 * Redis Cluster hash slots: a script or a multi-key command runs only when all its keys are in one
 * slot. Refused here, before the call, with the keys named: Redis would answer CROSSSLOT, which
 * says nothing of which caller built which key. Keys share a slot when they share a hash tag, the
 * part between the first `{` and the next `}` (`saga:{id}:record`, `saga:{id}:dedupe:...`).
 */
import { ErrorCode, TrellisError } from '../errors';

// cluster-key-slot (ioredis's own slot function) ships no types, and an ambient declaration would
// have to be part of every compilation that reaches this file (the kit's examples, the console's
// web build): typed here instead. The Redis Cluster slot (0-16383) of a key, honouring its {hash tag}.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const calculateSlot = require('cluster-key-slot') as (key: string) => number;

/** An atomic write over keys of several slots: the caller's key names must share a hash tag. */
export class CrossSlotError extends TrellisError {
  constructor(operation: string, keys: readonly string[]) {
    const slots = [...new Set(keys.map((key) => `${key} (slot ${calculateSlot(key)})`))];
    super(ErrorCode.CROSS_SLOT, `${operation} on Redis Cluster needs its keys in one hash slot (give them one {hash tag}); got ${slots.join(', ')}`);
  }
}

/** The one slot of `keys`; throws CrossSlotError when they span several. */
export function assertOneSlot(operation: string, keys: readonly string[]): number {
  const slot = calculateSlot(keys[0]);
  if (keys.some((key) => calculateSlot(key) !== slot)) throw new CrossSlotError(operation, keys);
  return slot;
}
