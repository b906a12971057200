/**
 * One upstream subscription fanned out to every client that asked for the same thing. A client
 * joining late gets the latest event first: subgraph subscriptions start with a snapshot (the
 * saga now, then every change), so the latest event is the snapshot a fresh one would have sent.
 * The last client leaving ends the upstream subscription; one leaving earlier ends nothing else.
 */
import type { ExecutionResult } from 'graphql';

/** How the upstream subscription ended: `failure` is graphql-ws's error (a close event, an error list). */
export interface Ending {
  failure?: unknown;
}

export class SharedSubscription {
  private readonly listeners = new Set<EventQueue>();
  private latest?: ExecutionResult;
  private ending?: Ending;
  private readonly unsubscribe: () => void;

  /**
   * @param open starts the upstream subscription with these callbacks and returns how to end it
   * @param onEnd called once, when upstream ended or the last client left
   */
  constructor(
    open: (sink: { next(result: ExecutionResult): void; error(failure: unknown): void; complete(): void }) => () => void,
    private readonly onEnd: (ending: Ending) => void,
  ) {
    this.unsubscribe = open({
      next: (result) => {
        this.latest = result;
        // Each client gets its own copy: executing the rest of a plan writes into the data it is given.
        for (const listener of this.listeners) listener.push(structuredClone(result));
      },
      error: (failure) => this.end({ failure }),
      complete: () => this.end({}),
    });
  }

  /** The events from now on (the latest one first), until upstream ends (throwing its failure) or `signal` aborts. */
  async *join(signal?: AbortSignal): AsyncGenerator<ExecutionResult> {
    if (this.ending || signal?.aborted) return;
    const queue = new EventQueue();
    if (this.latest) queue.push(structuredClone(this.latest));
    this.listeners.add(queue);
    const leave = () => queue.abandon();
    signal?.addEventListener('abort', leave, { once: true });
    try {
      yield* queue.drain();
    } finally {
      signal?.removeEventListener('abort', leave);
      this.listeners.delete(queue);
      if (this.listeners.size === 0 && !this.ending) {
        this.unsubscribe();
        this.end({});
      }
    }
  }

  private end(ending: Ending): void {
    if (this.ending) return;
    this.ending = ending;
    for (const listener of this.listeners) listener.finish(ending);
    this.onEnd(ending);
  }
}

/** One client's pending events, in order; `finish` ends the stream after what is queued. */
class EventQueue {
  private readonly pending: ExecutionResult[] = [];
  private ending?: Ending;
  private wake?: () => void;

  push(result: ExecutionResult): void {
    if (this.ending) return;
    this.pending.push(result);
    this.wake?.();
  }

  finish(ending: Ending): void {
    this.ending ??= ending;
    this.wake?.();
  }

  /** The client left: what is queued is dropped. */
  abandon(): void {
    this.pending.length = 0;
    this.finish({});
  }

  async *drain(): AsyncGenerator<ExecutionResult> {
    for (;;) {
      while (this.pending.length > 0) yield this.pending.shift()!;
      if (this.ending) {
        if (this.ending.failure !== undefined) throw this.ending.failure;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
