/**
 * Apollo Gateway refuses a supergraph that links a `for: SECURITY` feature it cannot enforce, as
 * it should. Trellis enforces `@authenticated` and `@requiresScopes` itself (see ./restrict.ts), so
 * the gateway receives the supergraph with those two links' purpose lifted; any other security
 * feature (e.g. `@policy`, which we do not enforce) is still refused.
 */
import type { SupergraphManager, SupergraphSdlHook } from '@apollo/gateway';

type SupergraphSdlHookOptions = Parameters<SupergraphSdlHook>[0];

const ENFORCED = ['https://specs.apollo.dev/authenticated/', 'https://specs.apollo.dev/requiresScopes/'];

export function liftEnforcedSecurityFeatures(sdl: string): string {
  return sdl.replace(/@link\(url: "([^"]+)", for: SECURITY\)/g, (link, url: string) =>
    ENFORCED.some((prefix) => url.startsWith(prefix)) ? `@link(url: "${url}")` : link,
  );
}

/** The same manager, handing the gateway SDL whose enforced security features it accepts. */
export function withEnforcedSecurityFeatures(manager: SupergraphManager): SupergraphManager {
  return {
    async initialize(options: SupergraphSdlHookOptions) {
      const result = await manager.initialize({ ...options, update: (sdl) => options.update(liftEnforcedSecurityFeatures(sdl)) });
      return { ...result, supergraphSdl: liftEnforcedSecurityFeatures(result.supergraphSdl) };
    },
  };
}
