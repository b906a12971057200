/**
 * Persisted queries, on Apollo Server's own APQ protocol (`extensions.persistedQuery.sha256Hash`;
 * PERSISTED_QUERY_NOT_FOUND, then the client registers query + hash, and Apollo verifies the hash):
 *
 * - default: automatic persisted queries, cached in the StateStore (Redis when configured, so every
 *   gateway instance shares them) with a TTL;
 * - trusted documents (TRUSTED_DOCUMENTS=manifest.json): the manifest is the only cache and
 *   nothing registers; a request runs only when its hash, or its query's sha256, is in the
 *   manifest. Anything else is refused with PERSISTED_QUERY_NOT_ALLOWED and HTTP 403, as Apollo
 *   Router answers a freeform operation that is not in its safelist (PERSISTED_QUERY_NOT_IN_LIST, 403).
 *   An unknown hash stays PERSISTED_QUERY_NOT_FOUND, as in the Router (which answers it with 404).
 */
import { GraphQLError } from 'graphql';
import type { Request, RequestHandler } from 'express';
import type { PersistedQueryOptions } from '@apollo/server';
import type { Config } from '@trellis/kit';
import type { StateStore } from '@trellis/kit';
import type { Logger } from '@trellis/kit';
import type { GatewayExtension } from '../extension';
import { loadTrustedDocuments, sha256, type TrustedDocuments } from './manifest';
import { StateStoreQueryCache, storeErrorsAsMisses } from './stateStoreCache';
import { hashMismatch, type PersistedDocuments } from './documents';
import { sendRequestError } from '@trellis/kit/internal';

export { loadTrustedDocuments, TrustedDocuments, sha256 } from './manifest';
export { StateStoreQueryCache } from './stateStoreCache';
export { resolvePersistedQuery, PERSISTED_QUERY_NOT_FOUND, type PersistedDocuments, type PersistableRequest, type ResolvedDocument } from './documents';

export const PERSISTED_QUERY_NOT_ALLOWED = 'PERSISTED_QUERY_NOT_ALLOWED';
const UNTRUSTED_MESSAGE = 'only trusted documents may run here: send the hash of a document in the manifest';

export interface PersistedQueriesOptions {
  settings: Config['persistedQueries'];
  /** Where automatic persisted queries are registered: the cache port (`Backends.cache`), as a client re-sends one that is gone. */
  state: StateStore;
  logger: Logger;
  /** Counts a lookup that failed in the store (served as a miss). */
  onStoreError?: () => void;
}

export function persistedQueries({ settings, state, logger, onStoreError = () => undefined }: PersistedQueriesOptions): GatewayExtension {
  if (!settings.trustedDocumentsPath) {
    const cache = new StateStoreQueryCache(state, undefined, storeErrorsAsMisses(logger, onStoreError));
    return {
      name: 'persisted-queries',
      apolloOptions: { persistedQueries: { cache, ttl: settings.ttlSeconds } },
      persistedDocuments: apqDocuments(cache, settings.ttlSeconds, logger),
      graphqlMiddleware: [refuseMismatchedHash()],
    };
  }
  const trusted = loadTrustedDocuments(settings.trustedDocumentsPath);
  logger.info({ documents: trusted.size, path: settings.trustedDocumentsPath }, 'trusted documents loaded; other documents are refused');
  return {
    name: 'persisted-queries',
    apolloOptions: { persistedQueries: { cache: manifestCache(trusted), ttl: null } },
    persistedDocuments: { lookup: async (hash) => trusted.body(hash), register: async () => undefined },
    graphqlMiddleware: [refuseUntrusted(trusted), refuseMismatchedHash()],
    // WebSocket and SSE carry the document's text: the same manifest decides.
    checkOperation: ({ source }) => {
      if (!trusted.allows(sha256(source))) throw new GraphQLError(UNTRUSTED_MESSAGE, { extensions: { code: PERSISTED_QUERY_NOT_ALLOWED } });
    },
  };
}

/** APQ over WebSocket and SSE, in the same cache and under the same keys as Apollo Server's, so a hash registered on one transport runs on any. */
function apqDocuments(cache: StateStoreQueryCache, ttlSeconds: number | null, logger: Logger): PersistedDocuments {
  const key = (hash: string) => `apq:${hash}`;
  return {
    lookup: (hash) => cache.get(key(hash)),
    // A failed registration only costs the client a resend, as on HTTP: logged, never refused.
    register: (hash, query) =>
      cache.set(key(hash), query, { ttl: ttlSeconds }).catch((error: unknown) => logger.warn({ err: error }, 'persisted query registration failed')),
  };
}

/** The manifest as a read-only APQ cache: registrations are dropped, so it never grows. */
function manifestCache(trusted: TrustedDocuments): NonNullable<PersistedQueryOptions['cache']> {
  // Apollo Server prefixes APQ keys with `apq:`; the rest is the hash.
  const hashOf = (key: string) => key.replace(/^apq:/, '');
  return {
    get: async (key) => trusted.body(hashOf(key)),
    set: async () => undefined,
    delete: async () => false,
  };
}

/** The operations of a request: a GET's query string, a POST's body, or each of a batch's. */
function operationsOf(req: Request): unknown[] {
  return req.method === 'GET' ? [req.query] : Array.isArray(req.body) ? req.body : [req.body];
}

/** A GET carries `extensions` as JSON text; what does not parse is left for Apollo Server to refuse. */
function extensionsOf(operation: { extensions?: unknown }): Record<string, unknown> | undefined {
  if (typeof operation.extensions !== 'string') return operation.extensions as Record<string, unknown> | undefined;
  try {
    return JSON.parse(operation.extensions) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Refuses, before Apollo Server, a query sent with a hash that is not its own: 400 BAD_REQUEST under either media type. */
function refuseMismatchedHash(): RequestHandler {
  return (req, res, next) => {
    for (const operation of operationsOf(req)) {
      if (typeof operation !== 'object' || operation === null) continue;
      const { query } = operation as { query?: unknown };
      const refusal = hashMismatch({ query: typeof query === 'string' ? query : undefined, extensions: extensionsOf(operation) });
      if (refusal) return sendRequestError(res, { errors: [{ message: refusal.message, extensions: refusal.extensions }] });
    }
    next();
  };
}

/**
 * Refuses, before Apollo Server, a request carrying a query that is not in the manifest (a body
 * sent with or without a hash). A hash alone goes on: Apollo answers it from the manifest, or
 * with PERSISTED_QUERY_NOT_FOUND. (Express middleware rather than a plugin hook: Apollo Server
 * turns an error thrown before parsing into a masked 500.)
 */
function refuseUntrusted(trusted: TrustedDocuments): RequestHandler {
  return (req, res, next) => {
    const untrusted = operationsOf(req).some((operation) => {
      const query = (operation as { query?: unknown } | undefined)?.query;
      return typeof query === 'string' && !trusted.allows(sha256(query));
    });
    if (!untrusted) return next();
    res.status(403).json({
      errors: [{ message: UNTRUSTED_MESSAGE, extensions: { code: PERSISTED_QUERY_NOT_ALLOWED } }],
    });
  };
}
