/**
 * What field authorization did to a document, kept per (document, the caller's access), as Apollo
 * Router keeps its authorization-filtered documents: client apps send a few documents, and callers
 * fall into a few scope sets, so the document is walked, printed and hashed once per pair instead
 * of on every request. The verdict depends only on whether the caller is signed in and on the
 * scopes it holds (see `deny`), so callers with the same scopes share an entry.
 * A new supergraph (schema or access policy) forgets every entry.
 */
import { print, type DocumentNode, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { AccessPolicy, AccessSubject } from '@trellis/kit/internal';
import { restrictDocument, type Removal } from './restrict';
import { sha256 } from '../sha256';

export interface CachedRestriction {
  document: DocumentNode;
  removals: Removal[];
  /** sha256 of the printed restricted document: the plan cache's key for it. */
  queryHash: string;
}

export const DEFAULT_RESTRICTIONS = 5000;

export class RestrictionCache {
  private readonly entries: LRUCache<string, CachedRestriction | false>;
  private readonly ids = new WeakMap<DocumentNode, number>();
  private nextId = 0;
  private schema?: GraphQLSchema;
  private policy?: AccessPolicy;

  /** `maxFields`: the most fields restricting may inline (the cost limit); more is refused, not built. */
  constructor(
    max = DEFAULT_RESTRICTIONS,
    private readonly maxFields = Infinity,
  ) {
    this.entries = new LRUCache({ max });
  }

  /** The restricted document for this caller, or undefined when the caller may see all of it. */
  restrict(schema: GraphQLSchema, policy: AccessPolicy, document: DocumentNode, subject: AccessSubject): CachedRestriction | undefined {
    if (policy.size === 0) return undefined;
    if (schema !== this.schema || policy !== this.policy) {
      this.entries.clear();
      this.schema = schema;
      this.policy = policy;
    }
    const key = `${this.idOf(document)} ${accessKeyOf(subject)}`;
    const kept = this.entries.get(key);
    if (kept !== undefined) return kept || undefined;
    const restricted = restrictDocument(schema, document, policy, subject, this.maxFields);
    const verdict =
      restricted.removals.length === 0
        ? false
        : { document: restricted.document, removals: restricted.removals, queryHash: sha256(print(restricted.document)) };
    this.entries.set(key, verdict);
    return verdict || undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Documents are told apart by identity: the transports keep one parsed document per query text. */
  private idOf(document: DocumentNode): number {
    let id = this.ids.get(document);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(document, id);
    }
    return id;
  }
}

/** Everything of the caller that `deny` reads: signed in or not, and the set of scopes held. */
export function accessKeyOf(subject: AccessSubject): string {
  if (!subject) return '-';
  return `+${[...new Set(subject.scopes)].sort().join(' ')}`;
}
