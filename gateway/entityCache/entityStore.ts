/**
 * The entity cache's two tiers: a small LRU in this process in front of the shared cache Redis
 * (absent: in process only). Entries are filed by entity (`Type:{key}`) and variant (subgraph,
 * query, caller where it matters), so a change drops an entity's every entry at once.
 */
import { LRUCache } from 'lru-cache';
import type { CacheHint } from './cacheHint';
import type { EntityCacheMetrics } from './metrics';
import type { RedisTier } from './redisTier';
import { decodeStored, encodeStored, type StoredEntity } from './storedEntity';

/** Entries one entity keeps in process (queries × callers); past it, the oldest goes. */
export const VARIANTS_PER_ENTITY = 32;

export interface Lookup {
  type: string;
  /** `Type:{sorted key JSON}` (entityChangeKey): what a change names. */
  entity: string;
  variant: string;
  /** The variant under the caller's identity, for an answer the subgraph calls private; undefined for an anonymous caller. */
  privateVariant?: string;
}

export interface EntityStoreOptions {
  /** Entities kept in process. */
  localMax: number;
  /** No entry lives longer (ms), whatever a subgraph declares. */
  maxTtlMs: number;
  redis?: RedisTier;
  metrics: EntityCacheMetrics;
  now: () => number;
}

export class EntityStore {
  private readonly local: LRUCache<string, Map<string, StoredEntity>>;
  /** When each entity was last dropped: an answer fetched before that is not stored (it may be what the change replaced). */
  private readonly droppedAt: LRUCache<string, number>;
  /** Root answers kept in process, and under each entity the root answers that hold it (dropped with it). */
  private readonly roots: LRUCache<string, StoredEntity>;
  private readonly rootsOf: LRUCache<string, Set<string>>;
  private shortTtlMs: number | undefined;

  constructor(private readonly options: EntityStoreOptions) {
    this.local = new LRUCache({ max: options.localMax });
    this.droppedAt = new LRUCache({ max: options.localMax });
    this.roots = new LRUCache({ max: options.localMax });
    // An entity forgotten here could no longer drop its root answers: they go with it.
    this.rootsOf = new LRUCache({ max: options.localMax, noDisposeOnSet: true, dispose: (keys) => keys.forEach((key) => this.roots.delete(key)) });
  }

  /** A cached root answer that may still be served, and where it was (`label`: what the metrics count it as). */
  async getRoot(key: string, label: string): Promise<{ entry: StoredEntity; tier: 'local' | 'redis' } | undefined> {
    const { metrics, redis } = this.options;
    const local = this.roots.get(key);
    if (local && this.isServable(local)) {
      metrics.hits.inc({ type: label, tier: 'local' });
      return { entry: local, tier: 'local' };
    }
    const value = redis ? await redis.getRoot(key) : undefined;
    const remote = value ? decodeStored(value) : undefined;
    if (remote && this.isServable(remote)) {
      metrics.hits.inc({ type: label, tier: 'redis' });
      return { entry: remote, tier: 'redis' };
    }
    if (local || remote) metrics.stale.inc({ type: label });
    metrics.misses.inc({ type: label });
    return undefined;
  }

  /** Stores a root answer holding `entities`, unless one of them was dropped since it was fetched. */
  putRoot(key: string, json: string, hint: CacheHint, fetchedAt: number, entities: Iterable<string>): void {
    const held = [...entities];
    if (held.some((entity) => (this.droppedAt.get(entity) ?? -1) >= fetchedAt)) return;
    const ttlMs = Math.min(hint.maxAge * 1000, this.options.maxTtlMs, this.shortTtlMs ?? Infinity);
    if (ttlMs <= 0) return;
    const now = this.options.now();
    const entry: StoredEntity = { json, expiresAt: now + ttlMs, storedAt: now, isPrivate: hint.scope === 'PRIVATE' };
    this.keepRoot(key, entry, held);
    void this.options.redis?.setRoot(key, encodeStored(entry), ttlMs, held);
  }

  /** Keeps a root answer in process, filed under each entity it holds (one read from Redis, too). */
  keepRoot(key: string, entry: StoredEntity, entities: readonly string[]): void {
    this.roots.set(key, entry);
    for (const entity of entities) {
      const keys = this.rootsOf.get(entity) ?? new Set<string>();
      keys.add(key);
      this.rootsOf.set(entity, keys);
    }
  }

  /** What each lookup finds that may still be served (undefined: a miss, or not cacheable when the lookup is). */
  async getMany(lookups: ReadonlyArray<Lookup | undefined>): Promise<Array<StoredEntity | undefined>> {
    const { metrics } = this.options;
    const wasStale = new Set<number>();
    const servable = (index: number, entry: StoredEntity | undefined) => {
      if (!entry || this.isServable(entry)) return entry;
      wasStale.add(index);
      return undefined;
    };
    const found = lookups.map((lookup, index) => lookup && servable(index, this.local.get(lookup.entity)?.get(lookup.variant)));
    found.forEach((entry, index) => entry && metrics.hits.inc({ type: (lookups[index] as Lookup).type, tier: 'local' }));
    const remote = this.options.redis ? lookups.flatMap((lookup, index) => (lookup && !found[index] ? [index] : [])) : [];
    const answers = remote.length > 0 ? await this.options.redis?.getMany(remote.map((index) => lookups[index] as Lookup)) : undefined;
    remote.forEach((index, position) => {
      const lookup = lookups[index] as Lookup;
      const value = answers?.[position];
      const entry = value ? servable(index, decodeStored(value)) : undefined;
      if (!entry) return;
      this.keepLocally(lookup, entry);
      found[index] = entry;
      metrics.hits.inc({ type: lookup.type, tier: 'redis' });
    });
    lookups.forEach((lookup, index) => {
      if (!lookup || found[index]) return;
      // An entry past its time is counted stale (once, whichever tier held it); otherwise a plain miss.
      if (wasStale.has(index)) metrics.stale.inc({ type: lookup.type });
      metrics.misses.inc({ type: lookup.type });
    });
    return found;
  }

  /** Stores an entity fetched at `fetchedAt`, unless a drop came since or its hint (or a shortened TTL) says not to keep it. */
  put(lookup: Lookup, json: string, hint: CacheHint, fetchedAt: number): void {
    if ((this.droppedAt.get(lookup.entity) ?? -1) >= fetchedAt) return;
    const ttlMs = Math.min(hint.maxAge * 1000, this.options.maxTtlMs, this.shortTtlMs ?? Infinity);
    if (ttlMs <= 0) return;
    const now = this.options.now();
    const entry: StoredEntity = { json, expiresAt: now + ttlMs, storedAt: now, isPrivate: hint.scope === 'PRIVATE' };
    this.keepLocally(lookup, entry);
    void this.options.redis?.set(lookup.entity, lookup.variant, encodeStored(entry), ttlMs);
  }

  /** Drops every entry of one entity, here and in the cache Redis. */
  async drop(type: string, entity: string): Promise<void> {
    this.local.delete(entity);
    this.rootsOf.delete(entity);
    this.droppedAt.set(entity, this.options.now());
    this.options.metrics.invalidations.inc({ type });
    await this.options.redis?.drop(entity);
  }

  /** While set, nothing older than `maxAgeMs` is served or kept longer (changes may be going undelivered); undefined restores declared TTLs. */
  shortenTtl(maxAgeMs: number | undefined): void {
    this.shortTtlMs = maxAgeMs;
  }

  private keepLocally(lookup: Lookup, entry: StoredEntity): void {
    let variants = this.local.get(lookup.entity);
    if (!variants) this.local.set(lookup.entity, (variants = new Map()));
    variants.delete(lookup.variant);
    // Bounded per entity too (private entries are one per caller): the oldest variant goes first.
    if (variants.size >= VARIANTS_PER_ENTITY) variants.delete(variants.keys().next().value as string);
    variants.set(lookup.variant, entry);
  }

  /** Whether an entry may be served now: before its expiry, and no older than a shortened TTL. */
  private isServable(entry: StoredEntity): boolean {
    const now = this.options.now();
    return now < entry.expiresAt && (this.shortTtlMs === undefined || now - entry.storedAt <= this.shortTtlMs);
  }
}
