/**
 * Where composition runs. Composing a supergraph takes tens to hundreds of milliseconds of CPU
 * (more for large graphs), and on the gateway's event loop that time is taken from every request
 * in flight, each time a subgraph is deployed. The gateway composes in a worker thread instead:
 * started when a composition is asked for, kept while compositions keep coming, and ended once it
 * has been idle a while, so it costs no memory between deploys. A worker that dies (a crash, an
 * out-of-memory) fails the compositions it held with a clear error, and the next one starts a new
 * worker; the discovery manager keeps the last good supergraph meanwhile.
 *
 * ```ts
 * const composer = new WorkerComposer();
 * const { composition, refused } = await composer.compose(sources, trusted);
 * await composer.close();
 * ```
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
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

export interface WorkerComposerOptions {
  /** How long an idle worker is kept for the next composition (default 30 s). */
  idleMs?: number;
  /** The worker's entry (default composeWorker beside this file); a test may point it at another. */
  workerFile?: string;
}

interface Pending {
  resolve: (result: IncrementalComposition) => void;
  reject: (error: Error) => void;
}

export class WorkerComposer implements Composer {
  private worker?: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idleTimer?: NodeJS.Timeout;
  private readonly idleMs: number;
  private readonly workerFile: string;

  constructor(options: WorkerComposerOptions = {}) {
    this.idleMs = options.idleMs ?? 30_000;
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
      this.pending.set(id, { resolve, reject });
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

  private startWorker(): Worker {
    // Source (.ts) under tsx or jest: the worker needs tsx's loader too; compiled (.js): nothing.
    const execArgv = this.workerFile.endsWith('.ts') ? ['--import', require.resolve('tsx')] : [];
    const worker = new Worker(this.workerFile, { execArgv });
    worker.on('message', (reply: ComposeReply) => this.onReply(reply));
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
