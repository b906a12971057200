/**
 * Limits of the public GraphQL endpoint: query depth, introspection depth, aliases, root fields,
 * directives per field, tokens, estimated cost (with the supergraph's `@cost`/`@listSize`) and
 * batch size, each refused with its own code before any subgraph is called. (The body size limit
 * is the server's JSON parser's, from the same config.)
 *
 * ```ts
 * const extension = limits(config.limits, logger);
 * ```
 */
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { Config } from '@trellis/kit';
import type { Logger } from '@trellis/kit';
import type { GatewayExtension } from '../extension';
import { batchLimit, measureBatchedOperation } from './batch';
import { introspectionDepthError, MeasureCache, NO_COST_DIRECTIVES, readCostDirectives, tokenLimitError, validationBudgetError, type CostDirectives } from '@trellis/kit/internal';
import { tracedOperationLimits } from './operationLimits';
import { BARE_CHECKS, type CheckSpans } from '../observability/checkSpans';

// The measure is the kit's (shared/limits), so that subgraphs reached directly limit the same way.
export { LimitCode, LimitExceededError, measureOperation, readCostDirectives, type OperationMeasure, type MeasureOptions, type CostDirectives, type ListSizeDirective } from '@trellis/kit/internal';

/** `spans`: the `gateway.limits` span of each check, with tracing on. */
export function limits(settings: Config['limits'], logger?: Logger, spans: CheckSpans = BARE_CHECKS): GatewayExtension {
  // The API schema has lost the supergraph's demand-control directives: read them on every update.
  let costDirectives: CostDirectives = NO_COST_DIRECTIVES;
  let schema: GraphQLSchema | undefined;
  const currentCostDirectives = () => costDirectives;
  // One cache for every transport: HTTP, WebSocket and SSE see the same documents.
  const measures = new MeasureCache();
  const formatters = [tokenLimitError(settings.maxTokens), introspectionDepthError(settings.maxIntrospectionDepth), validationBudgetError];
  return {
    name: 'limits',
    apolloOptions: { parseOptions: { maxTokens: settings.maxTokens }, allowBatchedHttpRequests: true },
    graphqlMiddleware: [batchLimit(settings, measureBatchedOperation(settings, () => schema, currentCostDirectives))],
    checkOperation: ({ schema: checked, document, operation, variables }) => void tracedOperationLimits(spans, settings, checked, document, operation, variables, costDirectives, measures),
    formatError: (formatted: GraphQLFormattedError) => formatters.reduce((current, format) => format(current), formatted),
    attach(_server, host) {
      host.gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => {
        schema = apiSchema;
        try {
          costDirectives = readCostDirectives(coreSupergraphSdl);
          logger?.debug({ weights: costDirectives.weights.size, listSizes: costDirectives.listSizes.size }, 'cost directives loaded');
        } catch (error) {
          logger?.error({ err: error }, 'cannot read the cost directives of the new supergraph; keeping the previous ones');
        }
      });
    },
  };
}
