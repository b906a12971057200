/**
 * The limits' measure of an operation and the check against it, shared by the gateway
 * (gateway/limits) and the kit (every subgraph refuses what the gateway would, when reached
 * directly): depth, introspection depth, aliases, root fields, directives per field, tokens and
 * estimated cost (with `@cost`/`@listSize`), each refusal with its own code.
 *
 * ```ts
 * const measure = enforceOperationLimits(config.limits, schema, document, operation, variables, costDirectives);
 * ```
 */
export { LimitCode, LimitExceededError } from './errors';
export { measureOperation, type OperationMeasure, type MeasureOptions, type SlicingViolation } from './measure';
export { NO_COST_DIRECTIVES, readCostDirectives, type CostDirectives, type ListSizeDirective } from './costDirectives';
export { MeasureCache } from './measureCache';
export { enforceOperationLimits, type OperationLimits } from './enforce';
export { tokenLimitError } from './tokenLimit';
export { introspectionDepthError } from './introspectionLimit';
export { validationBudgetError } from './validationBudget';
