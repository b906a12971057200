// Hive Gateway config for the gateway bench (passed with --config-path). The same work as the other
// gateways: its JWT plugin verifies the caller's token (ES256, the bench's issuer and audience,
// keys from the issuer's JWKS, BENCH_AUTH_ISSUER), its generic auth enforces the supergraph's
// @authenticated/@requiresScopes (rejectUnauthenticated false: a refused field is removed from the
// operation, the rest served, a null and an error written at its path), and the caller's
// `authorization` goes on to the subgraphs, which verify it again, as behind the other gateways.
// Its refusals carry `http.status` 401, which Yoga would make the status of the whole partial
// answer; validateUser drops it, so a partial answer is HTTP 200 as on the other gateways.
//
// With BENCH_RESPONSE_CACHE_REDIS_URL (the `hive-cache` target) its response cache is on, on that
// Redis: whole answers kept 30 s, the maxAge the example subgraphs declare for Product, User and
// Order, keyed by the caller. The supergraph
// does not carry the subgraphs' @cacheControl (not composed), so Hive cannot tell a public answer
// from a private one: every entry is per session, the verified token's subject and scopes (what
// decides the answer; a cache hit is served before validation, so the scopes must be in the key).
// The JWT plugin verifies the token before the cache is looked up (onRequestParse, before
// onParams), so a hit costs the same verification as a miss; answers with errors (a refused
// field) are not kept.
import { createRemoteJwksSigningKeyProvider, extractFromHeader } from '@graphql-hive/gateway';
import { defaultProtectSingleValidateFn } from '@envelop/generic-auth';
import { GraphQLError } from 'graphql';

const issuer = process.env.BENCH_AUTH_ISSUER;
if (!issuer) throw new Error('BENCH_AUTH_ISSUER is not set: the bench passes its identity provider here');
const responseCacheRedis = process.env.BENCH_RESPONSE_CACHE_REDIS_URL;

const responseCache = responseCacheRedis
  ? {
      cache: { type: 'redis', url: responseCacheRedis, keyPrefix: process.env.BENCH_RESPONSE_CACHE_PREFIX ?? 'bench:hive-cache:', lazyConnect: false },
      responseCaching: {
        ttl: 30_000,
        // The caller, as verified by the JWT plugin (no token: no session, and nothing private is answered to it).
        session: (_request, context) => {
          const payload = context?.jwt?.payload;
          return payload ? `${payload.sub} ${payload.scope ?? ''}` : null;
        },
      },
    }
  : {};

export const gatewayConfig = {
  ...responseCache,
  // @defer and @stream (off by default in Hive Gateway), for the deferred shape: the other shapes carry neither.
  deferStream: true,
  jwt: {
    signingKeyProviders: [createRemoteJwksSigningKeyProvider({ jwksUri: `${issuer}/.well-known/jwks.json` })],
    tokenLookupLocations: [extractFromHeader({ name: 'authorization', prefix: 'Bearer' })],
    tokenVerification: { issuer, audience: 'trellis', algorithms: ['ES256'] },
    reject: { missingToken: false, invalidToken: true },
  },
  genericAuth: {
    mode: 'protect-granular',
    resolveUserFn: (context) => context.jwt?.payload,
    rejectUnauthenticated: false,
    validateUser: (params) => {
      const error = defaultProtectSingleValidateFn(params);
      return error && new GraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions: { code: error.extensions.code } });
    },
  },
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => {
      const authorization = request.headers.get('authorization');
      return authorization ? { authorization } : {};
    },
  },
};
