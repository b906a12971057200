/**
 * Authentication and field authorization at the gateway: verifies `Authorization: Bearer <JWT>`
 * with jose (401 UNAUTHENTICATED naming the failed check), and enforces federation's
 * `@authenticated` / `@requiresScopes` from the supergraph by removing unauthorized fields
 * before planning; each comes back null with a FORBIDDEN error at its path.
 */
import { GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { decodeJwt } from 'jose';
import type { Registry } from 'prom-client';
import { AuthenticationError, bearerToken, createTokenVerifier, type AuthSettings, type TokenVerifier } from '@trellis/kit';
import { describeTokenFailure, readAccessPolicy, type AccessPolicy } from '@trellis/kit/internal';
import type { Logger } from '@trellis/kit';
import type { GatewayContext } from '../context';
import type { GatewayExtension } from '../extension';
import { RestrictionCache } from './restrictionCache';
import { applyRemovals } from './response';
import { BARE_CHECKS, type CheckSpans } from '../observability/checkSpans';
import type { TokenAttempts } from '../ratelimit/tokenAttempts';

/** Attributes of the auth spans. */
export const AUTH_ATTRIBUTES = { anonymous: 'trellis.auth.anonymous', removedFields: 'trellis.auth.removed_fields' } as const;

export interface AuthOptions {
  /** Undefined: no issuer configured, so every caller is anonymous and a token is refused. */
  settings?: AuthSettings;
  logger: Logger;
  /** Tests pass a key set; otherwise the issuer's JWKS is fetched. */
  verifier?: TokenVerifier;
  /** Where the verifier counts JWKS refresh failures and verifications with stale keys. */
  registry?: Registry;
  /** `gateway.auth.authenticate` / `gateway.auth.authorize` spans, with tracing on. */
  spans?: CheckSpans;
  /**
   * The rate limit's say on tokens (gateway/ratelimit `tokenAttempts`): a refused token counts
   * against its address, and an address over its limit has its tokens refused unverified.
   */
  attempts?: TokenAttempts;
  /** The most fields authorization may inline from a document's fragments (MAX_COST); a document that would make more is refused. */
  maxFields?: number;
}

export function auth({ settings, logger, verifier: given, registry, spans = BARE_CHECKS, attempts, maxFields }: AuthOptions): GatewayExtension {
  const verifier = given ?? (settings ? createTokenVerifier(settings, { logger, registry }) : undefined);
  let policy: AccessPolicy = new Map();
  const restrictions = new RestrictionCache(undefined, maxFields);
  const expiries = new TokenExpiries(settings?.clockToleranceSec ?? 0);

  /** The document without the fields the caller may not see, and how to put their nulls back; none when all are allowed. */
  const restrict = (schema: GraphQLSchema, document: DocumentNode, context: GatewayContext) => {
    const restricted = spans.check('gateway.auth.authorize', (span) => {
      const found = restrictions.restrict(schema, policy, document, context.user ?? null);
      span?.setAttributes({ [AUTH_ATTRIBUTES.anonymous]: !context.user, [AUTH_ATTRIBUTES.removedFields]: found?.removals.length ?? 0 });
      return found;
    });
    if (!restricted) return undefined;
    const finish = (result: ExecutionResult): ExecutionResult => {
      const applied = applyRemovals(result.data as Record<string, unknown> | null | undefined, restricted.removals);
      const forbidden = applied.errors.map((error) => new GraphQLError(error.message, { path: error.path, extensions: error.extensions }));
      return { ...result, data: applied.data, errors: [...(result.errors ?? []), ...forbidden] };
    };
    return { document: restricted.document, queryHash: restricted.queryHash, finish };
  };

  return {
    name: 'auth',
    checkOperation: ({ schema, document, context }) => restrict(schema, document, context),
    async extendContext(header, context) {
      const authorization = header('authorization');
      // Before any work on a credential: an address over its rate limit gets RATE_LIMITED, unverified.
      if (authorization) attempts?.admit(context.clientAddress);
      let token: string | null;
      try {
        token = bearerToken(authorization);
        // A span only for a token to verify: an anonymous caller has nothing checked here.
        const identity = token ? await spans.checkAsync('gateway.auth.authenticate', () => verifyWith(verifier, token!)) : null;
        // A copy: the verifier keeps the identity it returned for the token's next request.
        context.user = identity && token ? { ...identity, expiresAt: expiries.of(identity, token) } : null;
      } catch (error) {
        const refusal = describeTokenFailure(error);
        context.logger.info({ reason: refusal.message }, 'token refused');
        // A bad credential counts against its address; not an issuer outage (503), which is no fault of the caller's.
        const limited = refusal instanceof AuthenticationError ? await attempts?.refused(context.clientAddress) : undefined;
        if (limited) throw limited;
        throw new GraphQLError(refusal.message, { extensions: { code: refusal.code, http: { status: refusal.httpStatus } } });
      }
    },
    attach(_server, host) {
      host.gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
        try {
          policy = readAccessPolicy(coreSupergraphSdl);
          logger.debug({ protectedCoordinates: policy.size }, 'access policy loaded');
        } catch (error) {
          logger.error({ err: error }, 'cannot read the access policy of the new supergraph; keeping the previous one');
        }
      });
    },
  };
}

async function verifyWith(verifier: TokenVerifier | undefined, token: string) {
  if (!verifier) throw describeTokenFailure(new Error('no token issuer is configured (AUTH_ISSUER), so tokens cannot be verified'));
  return verifier.verify(token);
}

/**
 * Each verified token's expiry, decoded once: the verifier hands back the same identity object for
 * a token it remembers, so the expiry is kept beside that object (and checked against the token,
 * should a verifier give one identity for several). Decoding the JWT on every request was 2% of
 * the cache-on gateway's CPU.
 */
class TokenExpiries {
  private readonly byIdentity = new WeakMap<object, { token: string; expiresAt: number | undefined }>();

  constructor(private readonly clockToleranceSec: number) {}

  of(identity: object, token: string): number | undefined {
    const known = this.byIdentity.get(identity);
    if (known?.token === token) return known.expiresAt;
    const expiresAt = expiryOf(token, this.clockToleranceSec);
    this.byIdentity.set(identity, { token, expiresAt });
    return expiresAt;
  }
}

/** When a verified token stops being accepted (ms since the epoch): its `exp` plus the clock tolerance the verifier allows. */
function expiryOf(token: string, clockToleranceSec: number): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? (exp + clockToleranceSec) * 1000 : undefined;
  } catch {
    return undefined; // not a JWT (a test's verifier may accept anything): no expiry to keep
  }
}
