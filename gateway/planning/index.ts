/**
 * Trellis's fixes to Apollo's query planner as one gateway extension (issue 20; the two fixes inside
 * the planner itself are patches in `patches/`): a client field that a `@requires` selects with
 * other arguments is aliased before planning and renamed back after (`argumentAliases.ts`), and the
 * planner is guarded on every supergraph (`guardedPlanner.ts`: clean planning errors, split fetches
 * for a field required twice). Runs after auth, so it rewrites the document auth restricted.
 */
import { print as printed, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { QueryPlanner } from '@apollo/query-planner';
import type { Logger } from '@trellis/kit';
import type { GatewayExtension } from '../extension';
import { sha256 } from '../sha256';
import { aliasRequiresConflicts, renameBack } from './argumentAliases';
import { guardPlanner } from './guardedPlanner';
import { RequiresIndex } from './requiresIndex';

export { QUERY_PLANNING_FAILED, QueryPlanningError } from './planningError';
export { RequiresIndex } from './requiresIndex';
export { guardPlanner } from './guardedPlanner';
export { aliasRequiresConflicts, renameBack } from './argumentAliases';

interface Rewrite {
  document: DocumentNode;
  queryHash: string;
  finish: (result: ExecutionResult) => ExecutionResult;
}

export function planning({ logger }: { logger?: Logger } = {}): GatewayExtension {
  let index = new RequiresIndex([]);
  // Per document (by identity: transports and the auth cache keep one per text), per supergraph.
  let rewrites = new WeakMap<DocumentNode, Rewrite | false>();

  const rewrite = (schema: GraphQLSchema, document: DocumentNode): Rewrite | undefined => {
    if (index.isEmpty) return undefined;
    const kept = rewrites.get(document);
    if (kept !== undefined) return kept || undefined;
    const aliased = aliasRequiresConflicts(schema, index, document);
    const verdict: Rewrite | false = aliased
      ? { document: aliased.document, queryHash: sha256(printed(aliased.document)), finish: (result) => renameBack(result, aliased.renames) }
      : false;
    rewrites.set(document, verdict);
    return verdict || undefined;
  };

  return {
    name: 'planning',
    checkOperation: ({ schema, document }) => rewrite(schema, document),
    attach(_server, host) {
      host.gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
        try {
          index = RequiresIndex.fromSupergraph(coreSupergraphSdl);
        } catch (error) {
          logger?.error({ err: error }, 'cannot read the @requires of the new supergraph; planning without the argument fixes');
          index = new RequiresIndex([]);
        }
        rewrites = new WeakMap();
        // Apollo Gateway makes a new planner for each supergraph just before calling this listener.
        const planner = (host.gateway as unknown as { queryPlanner?: QueryPlanner }).queryPlanner;
        if (planner) guardPlanner(planner, index, logger);
      });
    },
  };
}
