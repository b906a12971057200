/** What the gateway needs from a supergraph source (discovery-fed or a static file). */
import type { SupergraphManager as ApolloSupergraphManager } from '@apollo/gateway';
import type { InstanceDirectory } from './instances';
import type { PublicationStatus } from './publishedSupergraph';

/** How one composition ended: a supergraph, a failure, or killed at its deadline (COMPOSITION_TIMEOUT_MS). */
export type CompositionOutcome = 'ok' | 'failed' | 'timed_out';

export interface SupergraphStatus {
  /** sha256 of the served supergraph SDL, or null before the first one. */
  hash: string | null;
  /** Grows by one with each supergraph served. */
  version: number;
  composedAt: string | null;
  /** Where it came from: discovery instances, or the static file's path. */
  source: 'discovery' | 'file';
  subgraphs: Array<{ name: string; url: string; instances: string[] }>;
  refused: Array<{ name: string; errors: string[] }>;
  /** Discovered instances refused by the allow-list (SUBGRAPH_ALLOW): never composed, never called. */
  untrusted: Array<{ name: string; instance: string; url: string; reason: string }>;
  lastError: { at: string; message: string } | null;
  compositionFailures: number;
  /**
   * With one published supergraph for every gateway (Consul): whether this gateway composes (holds
   * the lock), who composed what it serves, and when the store last answered. Absent otherwise.
   */
  publication?: PublicationStatus & { staleSeconds: number };
}

export interface SupergraphSource extends ApolloSupergraphManager {
  readonly instances: InstanceDirectory;
  status(): SupergraphStatus;
  /** The served supergraph SDL, or null before the first one. */
  sdl(): string | null;
  /** Begins following its origin (discovery or the file). */
  start(): Promise<void>;
  /** Resolves with the SDL once the first supergraph is composed. */
  ready(): Promise<string>;
  stop(): Promise<void>;
  on(event: 'served', listener: (status: SupergraphStatus) => void): this;
  on(event: 'failed', listener: (status: SupergraphStatus) => void): this;
  on(event: 'composition', listener: (outcome: CompositionOutcome) => void): this;
}
