/** Messages and a hand-driven handler for the keyed consumer's unit tests. */
import type { EventMessage } from '@trellis/kit/internal/events';
import type { DeliveryOutcome } from '@trellis/kit/internal/events/kafka/keyedPartition';

export function message(offset: number, key: string | null): EventMessage {
  return { topic: 't', partition: 0, key, value: `${key}@${offset}`, headers: {}, offset: String(offset), timestamp: 0 };
}

/** A handler the test finishes by hand: each attempt waits until the test settles or fails it. */
export function scripted() {
  const pending = new Map<string, (outcome: DeliveryOutcome) => void>();
  const attempts: string[] = [];
  const deliver = (m: EventMessage, attempt: number) =>
    new Promise<DeliveryOutcome>((resolve) => {
      attempts.push(`${m.value}#${attempt}`);
      pending.set(m.value, resolve);
    });
  const finish = async (value: string, outcome: DeliveryOutcome = 'settled') => {
    const resolve = pending.get(value);
    if (!resolve) throw new Error(`${value} is not running (running: ${[...pending.keys()].join(', ')})`);
    pending.delete(value);
    resolve(outcome);
    await new Promise((r) => setImmediate(r));
  };
  return { deliver, finish, attempts, running: () => [...pending.keys()].sort() };
}
