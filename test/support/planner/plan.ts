/** Composes a case's subgraphs and plans operations the way the gateway does (and the way bare Apollo does). */
import { parse, type DocumentNode } from 'graphql';
import { QueryPlanner, prettyFormatQueryPlan, type QueryPlan } from '@apollo/query-planner';
import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { aliasRequiresConflicts, guardPlanner, RequiresIndex } from '../../../gateway/planning';
import { liftEnforcedSecurityFeatures } from '../../../gateway/auth/securityFeatures';

export interface Planned {
  plan: QueryPlan;
  pretty: string;
  document: DocumentNode;
}

export function plannerFor(subgraphs: Array<{ name: string; typeDefs: string; url?: string }>) {
  const composed = composeSupergraph(subgraphs.map(({ name, typeDefs, url }) => ({ name, url: url ?? `http://${name}.invalid/graphql`, sdl: typeDefs })));
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  return plannerForSupergraph(composed.supergraphSdl);
}

/** As the gateway receives it: the security features Trellis enforces itself lifted (gateway/auth/securityFeatures.ts). */
export function plannerForSupergraph(composedSdl: string) {
  const supergraphSdl = liftEnforcedSecurityFeatures(composedSdl);
  const supergraph = Supergraph.build(supergraphSdl);
  const apiSchema = supergraph.apiSchema();
  const schema = apiSchema.toGraphQLJSSchema();
  const index = RequiresIndex.fromSupergraph(supergraphSdl);
  const trellis = guardPlanner(new QueryPlanner(supergraph), index);
  const apollo = new QueryPlanner(supergraph);
  const build = (planner: QueryPlanner, document: DocumentNode, operationName?: string): Planned => {
    const plan = planner.buildQueryPlan(operationFromDocument(apiSchema, document, { operationName }));
    return { plan, pretty: prettyFormatQueryPlan(plan), document };
  };
  return {
    supergraphSdl,
    schema,
    /** As the gateway plans: the document rewrite first, then the guarded planner. */
    plan(query: string | DocumentNode, operationName?: string): Planned {
      const document = typeof query === 'string' ? parse(query) : query;
      return build(trellis, aliasRequiresConflicts(schema, index, document)?.document ?? document, operationName);
    },
    /** Apollo's planner alone (with the patches to the planner's package, which are part of it here). */
    apolloPlan(query: string, operationName?: string): Planned {
      return build(apollo, parse(query), operationName);
    },
  };
}
