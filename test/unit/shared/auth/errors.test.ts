/** Each way a token fails, as the message a client developer reads, with the HTTP status it gets. */
import { errors } from 'jose';
import { AuthenticationError, describeTokenFailure, SigningKeysUnavailableError } from '@trellis/kit/internal/auth';

describe('describeTokenFailure', () => {
  const claim = (name: string, reason = 'check_failed') => new errors.JWTClaimValidationFailed('failed', {}, name, reason);

  it.each([
    ['an expired token', new errors.JWTExpired('"exp" claim timestamp check failed', {}), 'token expired (exp is in the past)'],
    ['a wrong issuer', claim('iss'), 'token claim check failed: issuer (iss) is not the accepted issuer'],
    ['a wrong audience', claim('aud'), 'token claim check failed: audience (aud) does not include this service'],
    ['a future nbf', claim('nbf'), 'token claim check failed: token not yet valid (nbf is in the future)'],
    ['a bad iat', claim('iat'), 'token claim check failed: issued-at (iat) is invalid'],
    ['no subject', claim('sub', 'missing'), 'token claim check failed: subject (sub) is missing'],
    ['another claim', claim('jti', 'missing'), 'token claim check failed: jti missing'],
    ['an algorithm jose refuses', new errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed'), 'token algorithm is not allowed: "alg" (Algorithm) Header Parameter value not allowed'],
    ['a bad signature', new errors.JWSSignatureVerificationFailed(), 'token signature verification failed'],
    ['an unknown kid', new errors.JWKSNoMatchingKey(), 'no signing key matches the token (unknown kid)'],
    ['a key set that timed out', new errors.JWKSTimeout(), 'signing keys unavailable: request timed out'],
    ['an invalid key set', new errors.JWKSInvalid('JSON Web Key Set malformed'), 'signing keys unavailable: JSON Web Key Set malformed'],
    ['a malformed JWS', new errors.JWSInvalid('Invalid Compact JWS'), 'malformed token: Invalid Compact JWS'],
    ['a malformed JWT', new errors.JWTInvalid('JWT Claims Set must be a top-level JSON object'), 'malformed token: JWT Claims Set must be a top-level JSON object'],
    ['an unsupported key', new errors.JOSENotSupported('Unsupported key curve'), 'malformed token: Unsupported key curve'],
    ['any other error', new Error('boom'), 'token refused: boom'],
    ['a thrown string', 'odd', 'token refused: odd'],
  ])('%s', (_name, error, message) => {
    const refusal = describeTokenFailure(error);
    expect(refusal).toBeInstanceOf(AuthenticationError);
    expect(refusal).toMatchObject({ message, code: 'UNAUTHENTICATED', httpStatus: 401, retriable: false, cause: error });
  });

  it('passes its own refusals through unchanged', () => {
    const refusal = new AuthenticationError('already described');
    expect(describeTokenFailure(refusal)).toBe(refusal);
    const unavailable = new SigningKeysUnavailableError('answered HTTP 500', 'status');
    expect(describeTokenFailure(unavailable)).toBe(unavailable);
  });

  it('signing keys that cannot be had are 503 BACKEND_UNAVAILABLE and retriable, never a 401 that makes a client drop its token', () => {
    const error = new SigningKeysUnavailableError('no answer within 300 ms', 'timeout');
    expect(error).toMatchObject({
      message: "token cannot be verified now: the issuer's signing keys are unavailable (no answer within 300 ms); retry later",
      code: 'BACKEND_UNAVAILABLE',
      httpStatus: 503,
      retriable: true,
      reason: 'timeout',
      detail: 'no answer within 300 ms',
    });
    expect(new SigningKeysUnavailableError('x').reason).toBe('unreachable');
  });
});
