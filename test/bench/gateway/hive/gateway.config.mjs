// Hive Gateway config for the gateway bench (passed with --config-path): pass the caller's
// `authorization` on to the subgraphs, as the apollo and trellis targets do, so every target's
// subgraphs verify the same token. Hive verifies no token itself here (no JWT plugin configured).
export const gatewayConfig = {
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => {
      const authorization = request.headers.get('authorization');
      return authorization ? { authorization } : {};
    },
  },
};
