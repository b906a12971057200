// Hive Gateway config for the gateway bench (passed with --config-path). The same work as the other
// gateways: its JWT plugin verifies the caller's token (ES256, the bench's issuer and audience,
// keys from the issuer's JWKS, BENCH_AUTH_ISSUER), its generic auth enforces the supergraph's
// @authenticated/@requiresScopes (rejectUnauthenticated false: a refused field is removed from the
// operation, the rest served, a null and an error written at its path), and the caller's
// `authorization` goes on to the subgraphs, which verify it again, as behind the other gateways.
// Its refusals carry `http.status` 401, which Yoga would make the status of the whole partial
// answer; validateUser drops it, so a partial answer is HTTP 200 as on the other gateways.
import { createRemoteJwksSigningKeyProvider, extractFromHeader } from '@graphql-hive/gateway';
import { defaultProtectSingleValidateFn } from '@envelop/generic-auth';
import { GraphQLError } from 'graphql';

const issuer = process.env.BENCH_AUTH_ISSUER;
if (!issuer) throw new Error('BENCH_AUTH_ISSUER is not set: the bench passes its identity provider here');

export const gatewayConfig = {
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
