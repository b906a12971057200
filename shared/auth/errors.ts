/** Why a token was refused, in words a client developer can act on. */
import { errors } from 'jose';
import { ErrorCode, TrellisError } from '../errors';

/** The caller's credentials were missing where needed, malformed, or failed a check (HTTP 401). */
export class AuthenticationError extends TrellisError {
  readonly httpStatus = 401;

  constructor(message: string, cause?: unknown) {
    super(ErrorCode.UNAUTHENTICATED, message, { cause });
  }
}

export type JwksFailureReason = 'unreachable' | 'timeout' | 'status' | 'invalid';

/**
 * The token may be fine, but no signing keys were ever fetched and the JWKS endpoint is down
 * (HTTP 503, retriable): a client should retry, not drop its token as it would on a 401.
 */
export class SigningKeysUnavailableError extends TrellisError {
  readonly httpStatus = 503;

  constructor(
    readonly detail: string,
    readonly reason: JwksFailureReason = 'unreachable',
    cause?: unknown,
  ) {
    super(ErrorCode.BACKEND_UNAVAILABLE, `token cannot be verified now: the issuer's signing keys are unavailable (${detail}); retry later`, { retriable: true, cause });
  }
}

export type TokenRefusal = AuthenticationError | SigningKeysUnavailableError;

/** Names the check a token failed, from jose's error classes. */
export function describeTokenFailure(error: unknown): TokenRefusal {
  if (error instanceof AuthenticationError || error instanceof SigningKeysUnavailableError) return error;
  if (error instanceof errors.JWTExpired) return new AuthenticationError('token expired (exp is in the past)', error);
  if (error instanceof errors.JWTClaimValidationFailed) {
    const checks: Record<string, string> = {
      iss: 'issuer (iss) is not the accepted issuer',
      aud: 'audience (aud) does not include this service',
      nbf: 'token not yet valid (nbf is in the future)',
      iat: 'issued-at (iat) is invalid',
      sub: 'subject (sub) is missing',
    };
    return new AuthenticationError(`token claim check failed: ${checks[error.claim] ?? `${error.claim} ${error.reason}`}`, error);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new AuthenticationError(`token algorithm is not allowed: ${error.message}`, error);
  if (error instanceof errors.JWSSignatureVerificationFailed) return new AuthenticationError('token signature verification failed', error);
  if (error instanceof errors.JWKSNoMatchingKey) return new AuthenticationError('no signing key matches the token (unknown kid)', error);
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new AuthenticationError(`signing keys unavailable: ${error.message}`, error);
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) {
    return new AuthenticationError(`malformed token: ${error.message}`, error);
  }
  return new AuthenticationError(`token refused: ${error instanceof Error ? error.message : String(error)}`, error);
}
