/**
 * The worker thread's side of WorkerComposer (composer.ts): composes what it is sent and answers
 * with the result, or with the message of what threw. Not imported by anything: the composer
 * starts it as a worker.
 */
import { parentPort } from 'node:worker_threads';
import { composeIncrementally } from './compose';
import type { ComposeRequest, ComposeReply, WorkerReady } from './composer';

parentPort?.on('message', ({ id, candidates, trusted }: ComposeRequest) => {
  let reply: ComposeReply;
  try {
    reply = { id, result: composeIncrementally(candidates, new Set(trusted)) };
  } catch (error) {
    reply = { id, error: (error as Error).message ?? String(error) };
  }
  parentPort?.postMessage(reply);
});
const ready: WorkerReady = { ready: true };
parentPort?.postMessage(ready);
