/**
 * In a composition worker, for the composer tests: a request naming a subgraph "die" ends the
 * worker thread at once (exit code 3), "refuse" is answered with an error reply, and "hang"
 * computes for ever (a busy loop: the thread never reads another message; only terminating it ends it).
 */
import { parentPort } from 'node:worker_threads';
import type { ComposeRequest } from '../../../gateway/supergraph/composer';

parentPort?.on('message', ({ id, candidates }: ComposeRequest) => {
  const names = candidates.map((candidate) => candidate.name);
  if (names.includes('die')) process.exit(3);
  if (names.includes('refuse')) parentPort?.postMessage({ id, error: 'asked to refuse' });
  // eslint-disable-next-line no-empty
  if (names.includes('hang')) for (;;) {}
});
