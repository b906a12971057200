/**
 * Where composition runs. Composing a supergraph takes tens to hundreds of milliseconds of CPU
 * (more for large graphs), and on the gateway's event loop that time is taken from every request
 * in flight, each time a subgraph is deployed. The gateway composes in a worker thread instead:
 * started when a composition is asked for, kept while compositions keep coming, and ended once it
 * has been idle a while, so it costs no memory between deploys. A worker that dies (a crash, an
 * out-of-memory) fails the compositions it held with a clear error, and the next one starts a new
 * worker; the discovery manager keeps the last good supergraph meanwhile. A composition still
 * running at its deadline (`timeoutMs`: a pathological graph, a bug that loops) has its worker
 * terminated, which stops it mid-computation, and fails the same way.
 *
 * ```ts
 * const composer = new WorkerComposer();
 * const { composition, refused } = await composer.compose(sources, trusted);
 * await composer.close();
 * ```
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ErrorCode, TrellisError } from '@trellis/kit';
import { composeIncrementally, type IncrementalComposition, type SubgraphSource } from './compose';

export interface Composer {
  compose(candidates: SubgraphSource[], trusted: ReadonlySet<string>): Promise<IncrementalComposition>;
  close(): Promise<void>;
}

/** Composes on the calling thread: for tools and tests that have no event loop to protect. */
export const composeOnThisThread: Composer = {
  compose: async (candidates, trusted) => composeIncrementally(candidates, new Set(trusted)),
  close: async () => undefined,
};

/** What the composer sends its worker, and what comes back (composeWorker.ts). */
export interface ComposeRequest {
  id: number;
  candidates: SubgraphSource[];
  trusted: string[];
}
export type ComposeReply = { id: number; result: IncrementalComposition } | { id: number; error: string };
/** Sent once by a worker that has loaded the composition code, so start-up is not counted against a composition's deadline. */
export interface WorkerReady {
  ready: true;
}

export interface WorkerComposerOptions {
  /** How long an idle worker is kept for the next composition (default 30 s). */
  idleMs?: number;
  /** The worker's entry (default composeWorker beside this file); a test may point it at another. */
  workerFile?: string;
  /** How long one composition may run before its worker is terminated (default 30 s, COMPOSITION_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** A composition that ran past its deadline; its worker was terminated. */
export class CompositionTimeoutError extends TrellisError {
  constructor(timeoutMs: number) {
    super(ErrorCode.COMPOSITION_FAILED, `composition ran past its ${timeoutMs} ms deadline; its worker was terminated`);
  }
}

interface Pending {
  resolve: (result: IncrementalComposition) => void;
  reject: (error: Error) => void;
  deadline?: NodeJS.Timeout;
}

export class WorkerComposer implements Composer {
  private worker?: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer?: NodeJS.Timeout;
  private readonly idleMs: number;
  private readonly workerFile: string;
  private readonly timeoutMs: number;

  constructor(options: WorkerComposerOptions = {}) {
    this.idleMs = options.idleMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.workerFile = options.workerFile ?? path.join(__dirname, `composeWorker${path.extname(__filename)}`);
  }

  /** Whether a worker thread is running now. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  compose(candidates: SubgraphSource[], trusted: ReadonlySet<string>): Promise<IncrementalComposition> {
    clearTimeout(this.idleTimer);
    const worker = (this.worker ??= this.startWorker());
    // Held while it works, so a process with nothing else to do still waits for the answer.
    worker.ref();
    // Stryker disable next-line UpdateOperator: any sequence of distinct ids does
    const id = this.nextId++;
    return new Promise<IncrementalComposition>((resolve, reject) => {
      const pending: Pending = {
        resolve: (result) => (clearTimeout(pending.deadline), resolve(result)),
        reject: (error) => (clearTimeout(pending.deadline), reject(error)),
      };
      this.arm(pending);
      this.pending.set(id, pending);
      const request: ComposeRequest = { id, candidates, trusted: [...trusted] };
      worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    await this.stop(new Error('the composer was closed'));
  }

  /** Ends the worker, failing what it still held with `error`. */
  private async stop(error: Error): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(error);
    await worker?.terminate();
  }

  /**
   * (Re)starts a composition's deadline. Only terminating the worker stops a composition that never
   * returns (a busy thread reads no message); merely giving up waiting would leave it burning a core.
   */
  private arm(pending: Pending): void {
    clearTimeout(pending.deadline);
    pending.deadline = setTimeout(() => void this.stop(new CompositionTimeoutError(this.timeoutMs)), this.timeoutMs);
  }

  private startWorker(): Worker {
    // Source (.ts) under tsx or jest: the worker needs tsx's loader too, and the condition that resolves
    // `@trellis/kit` to the kit's sources (an explicit execArgv drops the parent's); compiled (.js): nothing.
    const execArgv = this.workerFile.endsWith('.ts') ? ['--conditions=trellis-source', '--import', require.resolve('tsx')] : [];
    const worker = new Worker(this.workerFile, { execArgv });
    worker.on('message', (message: ComposeReply | WorkerReady) => {
      // Loaded: what waited on start-up (bounded by the same deadline meanwhile) gets its full time to compose.
      if ('ready' in message) for (const pending of this.pending.values()) this.arm(pending);
      else this.onReply(message);
    });
    worker.on('error', (error) => this.onDeath(worker, new Error(`the composition worker failed: ${error.message}`)));
    worker.on('exit', (code) => this.onDeath(worker, new Error(`the composition worker exited (code ${code})`)));
    return worker;
  }

  private onReply(reply: ComposeReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if ('error' in reply) pending.reject(new Error(`composition failed: ${reply.error}`));
    else pending.resolve(reply.result);
    if (this.pending.size === 0) {
      this.worker?.unref();
      this.idleTimer = setTimeout(() => void this.stop(new Error('the composition worker was idle')), this.idleMs);
      this.idleTimer.unref();
    }
  }

  private onDeath(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.failAll(error);
  }

  private failAll(error: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const { reject } of pending) reject(error);
  }
}
