/**
 * A client that stops watching a saga that is not changing (stuck, or waiting on a participant)
 * frees the server's side at once: the state-store subscription and the recheck timer end, instead
 * of living until the saga next changes (which may be never).
 */
import { InMemoryStateStore } from '@trellis/kit/testing';
import type { SagaRecord } from '@trellis/kit/saga';
import { watchSaga } from '../../../../subgraphs/sagas/sagaWatch';

const running = { id: 's1', state: 'RUNNING', revision: 3, steps: [] } as unknown as SagaRecord;

describe('watchSaga', () => {
  it('ends, and unsubscribes, when the watcher stops while no change is coming', async () => {
    const state = new InMemoryStateStore();
    let subscribed = 0;
    const subscribe = state.subscribe.bind(state);
    state.subscribe = async (channel, onMessage) => {
      subscribed += 1;
      const unsubscribe = await subscribe(channel, onMessage);
      return async () => {
        subscribed -= 1;
        await unsubscribe();
      };
    };
    const stop = new AbortController();
    const watch = watchSaga(state, 's1', async () => running, stop.signal);
    expect(await watch.next()).toEqual({ done: false, value: running });
    // The watcher waits for a change that never comes; the client goes away.
    const waiting = watch.next();
    stop.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(subscribed).toBe(0);
  });
});
