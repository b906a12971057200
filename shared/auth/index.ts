export { AuthenticationError, SigningKeysUnavailableError, describeTokenFailure, type TokenRefusal } from './errors';
export { RemoteKeySet, JWKS_BACKOFF, type RemoteKeySetOptions } from './jwks';
export { createTokenVerifier, bearerToken, ASYMMETRIC_ALGORITHMS, type AuthSettings, type TokenVerifier } from './verifier';
export { DevIdentityProvider, type IdentityProviderOptions } from './identityProvider';
export { readAccessPolicy, requirementsOf, deny, type AccessPolicy, type AccessRequirement, type AccessSubject } from './access';
