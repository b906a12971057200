/** What the bench's child processes tell the runner on stdout once they are up. */
export const READY_PREFIX = 'BENCH_READY ';

export interface SubgraphHostReady {
  supergraphPath: string;
  /** Subgraph name to its `/graphql` URL. */
  urls: Record<string, string>;
  /** Where the runner sets a product's stock (stockControl.ts). */
  stockControlUrl: string;
}
