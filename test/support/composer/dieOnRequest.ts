/** In a composition worker: a request naming a subgraph "die" ends the worker thread at once (exit code 3). */
import { parentPort } from 'node:worker_threads';
import type { ComposeRequest } from '../../../gateway/supergraph/composer';

parentPort?.on('message', ({ candidates }: ComposeRequest) => {
  if (candidates.some((candidate) => candidate.name === 'die')) process.exit(3);
});
