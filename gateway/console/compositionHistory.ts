/** The supergraph's recent compositions, served and failed, kept in memory (the newest `capacity`) for the console. */
import type { SupergraphSource, SupergraphStatus } from '../supergraph/types';
import { BoundedLog } from './boundedLog';

export interface Composition {
  at: string;
  outcome: 'served' | 'failed';
  version: number;
  hash: string | null;
  subgraphs: string[];
  /** The failure, for a failed composition. */
  error?: string;
}

export class CompositionHistory {
  private readonly log: BoundedLog<Composition>;

  constructor(source: SupergraphSource, capacity = 50) {
    this.log = new BoundedLog(capacity);
    source.on('served', (status) => this.log.add(entry('served', status, status.composedAt)));
    source.on('failed', (status) => this.log.add({ ...entry('failed', status, status.lastError?.at ?? null), error: status.lastError?.message }));
  }

  /** Newest first. */
  entries(): Composition[] {
    return this.log.newestFirst();
  }
}

function entry(outcome: Composition['outcome'], status: SupergraphStatus, at: string | null): Composition {
  return { at: at ?? new Date().toISOString(), outcome, version: status.version, hash: status.hash, subgraphs: status.subgraphs.map((subgraph) => subgraph.name) };
}
