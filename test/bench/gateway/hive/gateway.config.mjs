// Hive Gateway config for the gateway bench (passed with --config-path). The same work as the other
// gateways: its JWT plugin verifies the caller's token (ES256, the bench's issuer and audience,
// keys from the issuer's JWKS, BENCH_AUTH_ISSUER), its generic auth enforces the supergraph's
// @authenticated/@requiresScopes (a refused field is removed from the operation and answered with
// an error, the rest served: rejectUnauthenticated false), and the caller's `authorization` goes on
// to the subgraphs, which verify it again, as behind the apollo and trellis targets.
import { createRemoteJwksSigningKeyProvider, extractFromHeader } from '@graphql-hive/gateway';

const issuer = process.env.BENCH_AUTH_ISSUER;
if (!issuer) throw new Error('BENCH_AUTH_ISSUER is not set: the bench passes its identity provider here');

export const gatewayConfig = {
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
  },
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => {
      const authorization = request.headers.get('authorization');
      return authorization ? { authorization } : {};
    },
  },
};
