/**
 * An Apollo Server plugin that tells a GraphQL request's story on the active (HTTP server) span:
 * operation name and type, the document's hash, the outcome (success, partial, error), and a child
 * span each for parsing and validation.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { SpanStatusCode } from '@opentelemetry/api';
import { activeSpan, startSpan } from './spans';

/** GraphQL attribute names of the OpenTelemetry semantic conventions (graphql.*), and ours. */
export const GRAPHQL_ATTRIBUTES = {
  operationName: 'graphql.operation.name',
  operationType: 'graphql.operation.type',
  documentHash: 'graphql.document.hash',
  outcome: 'trellis.graphql.outcome',
} as const;

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
          const hasErrors = (errors?.length ?? 0) > 0 || (body?.errors?.length ?? 0) > 0;
          const hasData = body?.data !== undefined && body?.data !== null;
          const outcome = !hasErrors ? 'success' : hasData ? 'partial' : 'error';
          span.setAttribute(GRAPHQL_ATTRIBUTES.outcome, outcome);
          if (outcome === 'error')
            span.setStatus({ code: SpanStatusCode.ERROR, message: (errors?.[0] ?? body?.errors?.[0])?.message });
        },
      };
    },
  };
}
