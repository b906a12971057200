/**
 * graphql-js (16.10 and later) stops validating a document whose fields overlap more than its
 * `OverlappingFieldsCanBeMerged` rule will compare (a fixed budget), so a document repeating the
 * same field a thousand times is refused in milliseconds instead of compared pair by pair. It says
 * only "Validation aborted."; this says why, keeping the code (every transport formats through here).
 */
import type { GraphQLFormattedError } from 'graphql';

/** graphql-js's wording; a unit test pins it, so an upgrade that changes it fails loudly. */
export const VALIDATION_ABORTED_MESSAGE = 'Validation aborted.';

export function validationBudgetError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  if (formatted.extensions?.code !== 'GRAPHQL_VALIDATION_FAILED' || formatted.message !== VALIDATION_ABORTED_MESSAGE) return formatted;
  return {
    ...formatted,
    message: 'validation stopped: the operation repeats the same fields more often than graphql-js compares them (its overlapping-fields budget); select each field once',
  };
}
