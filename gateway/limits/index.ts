/**
 * Limits of the public GraphQL endpoint: query depth, aliases, root fields, tokens, estimated cost
 * and batch size, each refused with its own code before any subgraph is called. (The body size
 * limit is the server's JSON parser's, from the same config.)
 *
 * ```ts
 * const extension = limits(config.limits);
 * ```
 */
import type { Config } from '../../shared/config';
import type { GatewayExtension } from '../extension';
import { batchLimit } from './batch';
import { enforceOperationLimits, operationLimitsPlugin } from './operationLimits';
import { tokenLimitError } from './tokenLimit';

export { LimitCode, LimitExceededError } from './errors';
export { measureOperation, type OperationMeasure, type MeasureOptions } from './measure';

export function limits(settings: Config['limits']): GatewayExtension {
  return {
    name: 'limits',
    apolloOptions: { parseOptions: { maxTokens: settings.maxTokens }, allowBatchedHttpRequests: true },
    graphqlMiddleware: [batchLimit(settings.maxBatch)],
    apolloPlugins: [operationLimitsPlugin(settings)],
    checkOperation: ({ schema, document, operation, variables }) => enforceOperationLimits(settings, schema, document, operation, variables),
    formatError: tokenLimitError(settings.maxTokens),
  };
}
