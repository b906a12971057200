/** `/admin/supergraph` (on the admin listener): what the gateway serves, where it came from, and the last composition error. */
import type { GatewayExtension } from '../extension';
import type { SupergraphSource } from '../supergraph/types';

export function admin(source: SupergraphSource): GatewayExtension {
  return {
    name: 'admin',
    mountAdmin: (app) => {
      app.get('/admin/supergraph', (_req, res) => {
        res.json(source.status());
      });
      app.get('/admin/supergraph.graphql', (_req, res) => {
        const sdl = source.sdl();
        if (!sdl) {
          res.status(503).json({ error: 'no supergraph is served yet' });
          return;
        }
        res.type('text/plain').send(sdl);
      });
    },
  };
}
