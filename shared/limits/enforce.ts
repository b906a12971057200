/**
 * The one check of an operation against the limits, run by the gateway on every transport and by
 * the kit in every subgraph: depth, introspection depth, root fields, aliases, directives, slicing
 * arguments and estimated cost, each refused with its own code.
 */
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import type { CostDirectives } from './costDirectives';
import { LimitCode, LimitExceededError } from './errors';
import type { OperationMeasure } from './measure';
import { MeasureCache } from './measureCache';

export interface OperationLimits {
  maxDepth: number;
  maxIntrospectionDepth: number;
  maxAliases: number;
  maxRootFields: number;
  maxDirectives: number;
  maxCost: number;
  defaultListSize: number;
}

/** Throws LimitExceededError when the operation is over a limit, else gives what it measured; the same check on every transport. */
export function enforceOperationLimits(
  limits: OperationLimits,
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  costDirectives?: CostDirectives,
  measures = new MeasureCache(),
): OperationMeasure {
  const measure = measures.measureOf(schema, document, operation, { defaultListSize: limits.defaultListSize, variables, costDirectives });
  const refuse = (code: LimitCode, message: string, measured: number, limit: number) => {
    throw new LimitExceededError(code, message, measured, limit);
  };
  if (measure.depth > limits.maxDepth) refuse(LimitCode.QUERY_TOO_DEEP, `query depth ${measure.depth} exceeds the limit of ${limits.maxDepth}`, measure.depth, limits.maxDepth);
  if (measure.introspectionDepth > limits.maxIntrospectionDepth) {
    refuse(
      LimitCode.INTROSPECTION_TOO_DEEP,
      `introspection nests ${measure.introspectionDepth} lists (fields, interfaces, possibleTypes, inputFields); the limit is ${limits.maxIntrospectionDepth}`,
      measure.introspectionDepth,
      limits.maxIntrospectionDepth,
    );
  }
  if (measure.rootFields > limits.maxRootFields) {
    refuse(LimitCode.TOO_MANY_ROOT_FIELDS, `${measure.rootFields} root fields exceed the limit of ${limits.maxRootFields}`, measure.rootFields, limits.maxRootFields);
  }
  if (measure.aliases > limits.maxAliases) refuse(LimitCode.TOO_MANY_ALIASES, `${measure.aliases} aliases exceed the limit of ${limits.maxAliases}`, measure.aliases, limits.maxAliases);
  if (measure.directives > limits.maxDirectives) {
    refuse(LimitCode.TOO_MANY_DIRECTIVES, `${measure.directives} directives on one field exceed the limit of ${limits.maxDirectives}`, measure.directives, limits.maxDirectives);
  }
  const violation = measure.slicingViolation;
  if (violation) {
    refuse(
      LimitCode.SLICING_ARGUMENT_REQUIRED,
      `${violation.coordinate} needs exactly one of its slicing arguments (${violation.slicingArguments.join(', ')}); ${violation.given} given`,
      violation.given,
      1,
    );
  }
  if (measure.cost > limits.maxCost) refuse(LimitCode.QUERY_TOO_COSTLY, `estimated cost ${measure.cost} exceeds the limit of ${limits.maxCost}`, measure.cost, limits.maxCost);
  // Each field is at least a unit of work wherever fragments are expanded, whatever it costs to resolve.
  if (measure.fields > limits.maxCost) {
    refuse(LimitCode.QUERY_TOO_COSTLY, `${measure.fields} fields once fragments are inlined exceed the cost limit of ${limits.maxCost}`, measure.fields, limits.maxCost);
  }
  return measure;
}
