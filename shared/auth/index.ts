export { AuthenticationError, describeTokenFailure } from './errors';
export { createTokenVerifier, bearerToken, ASYMMETRIC_ALGORITHMS, type AuthSettings, type TokenVerifier } from './verifier';
export { DevIdentityProvider, type IdentityProviderOptions } from './identityProvider';
