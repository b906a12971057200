/**
 * What the WebSocket and SSE transports keep between requests, as Apollo Server and Apollo Gateway
 * do for HTTP: the parsed and validated document per (query text, operation name), and the query
 * plan per (document as checked, operation name). Each is bound to the schema or planner it was
 * made with: a supergraph swap starts both afresh.
 */
import { LRUCache } from 'lru-cache';

/** The entries most recently used are kept; the default matches the order of Apollo's document store. */
export const DEFAULT_CACHE_ENTRIES = 1000;

/** An LRU that empties when any of its owners (a schema, a planner) is replaced. */
export class OwnedCache<V extends object> {
  private owners: readonly object[] = [];
  private readonly entries: LRUCache<string, V>;

  constructor(max = DEFAULT_CACHE_ENTRIES) {
    this.entries = new LRUCache<string, V>({ max });
  }

  get(owners: readonly object[], key: string): V | undefined {
    if (!this.isOwnedBy(owners)) return undefined;
    return this.entries.get(key);
  }

  set(owners: readonly object[], key: string, value: V): void {
    if (!this.isOwnedBy(owners)) {
      this.entries.clear();
      this.owners = owners;
    }
    this.entries.set(key, value);
  }

  get size(): number {
    return this.entries.size;
  }

  private isOwnedBy(owners: readonly object[]): boolean {
    return owners.length === this.owners.length && owners.every((owner, i) => owner === this.owners[i]);
  }
}

/** A cache key that no query text or operation name can forge: the parts are JSON strings. */
export function cacheKey(...parts: ReadonlyArray<string | undefined>): string {
  return JSON.stringify(parts);
}
