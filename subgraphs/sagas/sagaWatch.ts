/**
 * `sagaStatus` as an async iterator: the current record first, then every change, in revision
 * order and without gaps or repeats, ending after a terminal state. It listens before it reads,
 * so a change that lands between the two is not lost. Aborting `signal` (the client went away) ends
 * it at once, even while it waits for a change that may never come.
 */
import type { StateStore } from '@trellis/kit';
import { NotFoundError } from '@trellis/kit';
import { sagaChannel, TERMINAL_STATES, type SagaRecord } from '@trellis/kit/saga';

/** With no change heard for this long, the watcher reads the record itself (pub/sub can drop a message). */
const RECHECK_MS = 2000;

export async function* watchSaga(
  state: StateStore,
  id: string,
  load: (id: string) => Promise<SagaRecord | null>,
  signal?: AbortSignal,
): AsyncGenerator<SagaRecord> {
  const queue: SagaRecord[] = [];
  let wake: (() => void) | undefined;
  const unsubscribe = await state.subscribe(sagaChannel(id), (message) => {
    queue.push(JSON.parse(message) as SagaRecord);
    wake?.();
  });
  const stop = () => wake?.();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    const snapshot = await load(id);
    if (!snapshot) throw new NotFoundError(`no saga with id ${id}`);
    let last = snapshot.revision;
    yield snapshot;
    if (TERMINAL_STATES.has(snapshot.state)) return;
    for (;;) {
      while (queue.length === 0) {
        if (signal?.aborted) return;
        const heard = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), RECHECK_MS);
          wake = () => (clearTimeout(timer), resolve(true));
        });
        if (signal?.aborted) return;
        if (heard) continue;
        const current = await load(id).catch(() => null);
        if (current && current.revision > last) queue.push(current);
      }
      queue.sort((a, b) => a.revision - b.revision);
      const next = queue.shift() as SagaRecord;
      if (next.revision <= last) continue;
      if (next.revision > last + 1) {
        // A message went missing (pub/sub is at-most-once): the stored record is the truth.
        const current = await load(id);
        if (current && current.revision > last) {
          last = current.revision;
          yield current;
          if (TERMINAL_STATES.has(current.state)) return;
        }
        continue;
      }
      last = next.revision;
      yield next;
      if (TERMINAL_STATES.has(next.state)) return;
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    await unsubscribe();
  }
}
