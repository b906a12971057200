/**
 * Parsed and validated operations of the WebSocket and SSE transports, by query text and operation
 * name, as Apollo Server keeps its document store for HTTP: a client app sends a few documents
 * over and over (with varied variables), so each is parsed and validated once per supergraph.
 * Only valid documents are kept; a refused one is checked again on every send (it is rare, and
 * keeping it would let a client fill the cache with garbage).
 */
import { LRUCache } from 'lru-cache';
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { sha256 } from '../sha256';

export interface PreparedOperation {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** sha256 of the query text, as Apollo Server's `queryHash`: the plan store's key on every transport. */
  queryHash: string;
}

export const DEFAULT_PREPARED_DOCUMENTS = 1000;

export class PreparedDocuments {
  private readonly cache: LRUCache<string, PreparedOperation>;
  private schema?: GraphQLSchema;

  constructor(max = DEFAULT_PREPARED_DOCUMENTS) {
    this.cache = new LRUCache({ max });
  }

  /** The kept operation for this text and name under `schema`; a new supergraph forgets them all. */
  get(schema: GraphQLSchema, query: string, operationName: string | undefined): PreparedOperation | undefined {
    if (schema !== this.schema) {
      this.cache.clear();
      this.schema = schema;
      return undefined;
    }
    return this.cache.get(keyOf(query, operationName));
  }

  /** Keeps an operation that passed validation against `schema`. */
  set(schema: GraphQLSchema, query: string, operationName: string | undefined, prepared: Omit<PreparedOperation, 'queryHash'>): PreparedOperation {
    const kept = { ...prepared, queryHash: sha256(query) };
    if (schema === this.schema) this.cache.set(keyOf(query, operationName), kept);
    return kept;
  }

  get size(): number {
    return this.cache.size;
  }
}

function keyOf(query: string, operationName: string | undefined): string {
  // A NUL cannot appear in an operation name, so no two (name, text) pairs share a key.
  return `${operationName ?? ''}\u0000${query}`;
}
