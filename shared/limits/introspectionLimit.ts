/**
 * graphql-js's own validation (`MaxIntrospectionDepthRule`, in `specifiedRules`, so it runs on HTTP,
 * graphql-ws and SSE alike) refuses three nested introspection lists before our limits run, as a
 * generic GRAPHQL_VALIDATION_FAILED; this turns it into INTROSPECTION_TOO_DEEP with the limit, so
 * the refusal reads the same whichever check saw it first.
 */
import type { GraphQLFormattedError } from 'graphql';
import { LimitCode } from './errors';

/** graphql-js's wording; a unit test pins it, so an upgrade that changes it fails loudly. */
const INTROSPECTION_DEPTH_MESSAGE = 'Maximum introspection depth exceeded';

export function introspectionDepthError(maxIntrospectionDepth: number) {
  return (formatted: GraphQLFormattedError): GraphQLFormattedError => {
    if (formatted.extensions?.code !== 'GRAPHQL_VALIDATION_FAILED' || formatted.message !== INTROSPECTION_DEPTH_MESSAGE) return formatted;
    return {
      ...formatted,
      message: `introspection nests more lists (fields, interfaces, possibleTypes, inputFields) than the limit of ${maxIntrospectionDepth}`,
      extensions: { code: LimitCode.INTROSPECTION_TOO_DEEP, limit: maxIntrospectionDepth },
    };
  };
}
