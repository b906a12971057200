/**
 * Refuses an operation over the depth, alias, root field or cost limit once Apollo Server has
 * parsed and validated it and before the gateway plans it, so a refused operation costs the
 * subgraphs nothing.
 */
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../context';
import { LimitCode, LimitExceededError } from './errors';
import { measureOperation } from './measure';

export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  maxRootFields: number;
  maxCost: number;
  defaultListSize: number;
}

export function operationLimitsPlugin(limits: OperationLimits): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (operation) enforceOperationLimits(limits, schema, document, operation, request.variables);
        },
      };
    },
  };
}

/** Throws LimitExceededError when the operation is over a limit; the same check on every transport. */
export function enforceOperationLimits(
  limits: OperationLimits,
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
): void {
  const measure = measureOperation(schema, document, operation, { defaultListSize: limits.defaultListSize, variables });
  if (measure.depth > limits.maxDepth) {
    throw new LimitExceededError(LimitCode.QUERY_TOO_DEEP, `query depth ${measure.depth} exceeds the limit of ${limits.maxDepth}`, measure.depth, limits.maxDepth);
  }
  if (measure.rootFields > limits.maxRootFields) {
    throw new LimitExceededError(
      LimitCode.TOO_MANY_ROOT_FIELDS,
      `${measure.rootFields} root fields exceed the limit of ${limits.maxRootFields}`,
      measure.rootFields,
      limits.maxRootFields,
    );
  }
  if (measure.aliases > limits.maxAliases) {
    throw new LimitExceededError(LimitCode.TOO_MANY_ALIASES, `${measure.aliases} aliases exceed the limit of ${limits.maxAliases}`, measure.aliases, limits.maxAliases);
  }
  if (measure.cost > limits.maxCost) {
    throw new LimitExceededError(LimitCode.QUERY_TOO_COSTLY, `estimated cost ${measure.cost} exceeds the limit of ${limits.maxCost}`, measure.cost, limits.maxCost);
  }
}
