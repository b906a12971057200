/**
 * Persisted queries on the transports Apollo Server does not serve (graphql-ws, SSE): a request
 * carrying `extensions.persistedQuery.sha256Hash` is answered as on HTTP, from the same store
 * (APQ in the StateStore, or the trusted-documents manifest), with the same codes.
 */
import { GraphQLError } from 'graphql';
import { sha256 } from './manifest';

/** Where the documents behind persisted-query hashes are kept. */
export interface PersistedDocuments {
  /** The document registered (APQ) or listed (trusted documents) under `hash`, if any. */
  lookup(hash: string): Promise<string | undefined>;
  /** Keeps a document a client sent with its hash (APQ); trusted documents register nothing. */
  register(hash: string, query: string): Promise<void>;
}

export interface PersistableRequest {
  /** The document's text; empty or absent when the client sent only its hash. */
  query?: string | null;
  extensions?: Record<string, unknown> | null;
}

export const PERSISTED_QUERY_NOT_FOUND = 'PERSISTED_QUERY_NOT_FOUND';

const badRequest = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_REQUEST' } });

/** The document a request runs, and, for a query sent with its hash, how to register it. */
export interface ResolvedDocument {
  query: string;
  /**
   * Keeps the query under its hash (APQ). Called only once every check passed, as Apollo Server
   * registers on HTTP: a document the limits or auth refuse is never stored.
   */
  register?: () => Promise<void>;
}

/**
 * The document to run: the query sent, or the one its hash names. Throws a GraphQLError as Apollo
 * Server answers on HTTP: PERSISTED_QUERY_NOT_FOUND for an unknown hash (the client then sends the
 * query with it, which registers it once it passed the checks), BAD_REQUEST for a hash that does
 * not match the query sent. Nothing is written here.
 */
export async function resolvePersistedQuery(request: PersistableRequest, documents: PersistedDocuments): Promise<ResolvedDocument> {
  const persisted = request.extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined;
  const query = request.query ?? '';
  if (persisted === undefined) return { query };
  if (persisted.version !== 1) throw badRequest('Unsupported persisted query version');
  const hash = persisted.sha256Hash;
  if (typeof hash !== 'string' || hash === '') throw badRequest('persistedQuery.sha256Hash must be a non-empty string');
  if (query === '') {
    const found = await documents.lookup(hash);
    if (found === undefined) throw new GraphQLError('PersistedQueryNotFound', { extensions: { code: PERSISTED_QUERY_NOT_FOUND } });
    return { query: found };
  }
  if (sha256(query) !== hash) throw badRequest(HASH_MISMATCH);
  return { query, register: () => documents.register(hash, query) };
}

const HASH_MISMATCH = 'provided sha does not match query';

/**
 * The refusal of a request that sends a query with a hash that is not its own, or undefined. On
 * HTTP this runs before Apollo Server, whose own refusal carries no code (so it reached clients as
 * INTERNAL_SERVER_ERROR, and a legacy `application/json` client got it with 200).
 */
export function hashMismatch(request: PersistableRequest): GraphQLError | undefined {
  const hash = (request.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined)?.sha256Hash;
  if (typeof hash !== 'string' || typeof request.query !== 'string' || request.query === '') return undefined;
  return sha256(request.query) === hash ? undefined : badRequest(HASH_MISMATCH);
}
