/**
 * An Apollo Server plugin that tells a GraphQL request's story on the active (HTTP server) span:
 * operation name and type, the document's hash, the outcome (success, partial, error), and a child
 * span each for parsing and validation.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { SpanStatusCode } from '@opentelemetry/api';
import { activeSpan, errorType, startSpan, type Span } from './spans';

/** GraphQL attribute names of the OpenTelemetry semantic conventions (graphql.*), and ours. */
export const GRAPHQL_ATTRIBUTES = {
  operationName: 'graphql.operation.name',
  operationType: 'graphql.operation.type',
  documentHash: 'graphql.document.hash',
  outcome: 'trellis.graphql.outcome',
  errorType: 'error.type',
} as const;

export type GraphQLOutcome = 'success' | 'partial' | 'error';

/** A result's outcome: no errors, errors beside data, or errors alone. */
export function graphqlOutcome(result: { data?: unknown; errors?: ReadonlyArray<unknown> }): GraphQLOutcome {
  if (!result.errors?.length) return 'success';
  return result.data !== undefined && result.data !== null ? 'partial' : 'error';
}

/**
 * Puts a result's outcome on a request span: `trellis.graphql.outcome`, and with errors the first
 * one's code as `error.type`; an error outcome (no data) fails the span.
 */
export function recordOutcome(span: Span, result: { data?: unknown; errors?: ReadonlyArray<unknown> }): GraphQLOutcome {
  const outcome = graphqlOutcome(result);
  span.setAttribute(GRAPHQL_ATTRIBUTES.outcome, outcome);
  if (outcome === 'success') return outcome;
  const first = result.errors![0] as { message?: unknown };
  span.setAttribute(GRAPHQL_ATTRIBUTES.errorType, errorType(first));
  if (outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: String(first.message ?? '') });
  return outcome;
}

export function graphqlSpans<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      const span = activeSpan();
      if (!span?.isRecording()) return {};
      return {
        async parsingDidStart() {
          const parse = startSpan('graphql.parse');
          return async (error?: Error) => {
            if (error) parse.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
            parse.end();
          };
        },
        async validationDidStart() {
          const validate = startSpan('graphql.validate');
          return async (errors?: ReadonlyArray<Error>) => {
            if (errors?.length) validate.setStatus({ code: SpanStatusCode.ERROR, message: errors[0].message });
            validate.end();
          };
        },
        async didResolveOperation({ operationName, operation, queryHash }) {
          span.setAttribute(GRAPHQL_ATTRIBUTES.documentHash, queryHash);
          if (operation) span.setAttribute(GRAPHQL_ATTRIBUTES.operationType, operation.operation);
          if (operationName) span.setAttribute(GRAPHQL_ATTRIBUTES.operationName, operationName);
        },
        async willSendResponse({ response, errors }) {
          const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
          recordOutcome(span, { data: body?.data, errors: [...(errors ?? []), ...(body?.errors ?? [])] });
        },
      };
    },
  };
}
