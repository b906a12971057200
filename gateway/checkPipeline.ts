/**
 * The gateway's one check pipeline: every extension's `checkOperation`, in the extensions' order
 * (limits, persisted documents, auth, planning), stopping at the first refusal, the same for every
 * transport. WebSocket and SSE run it from the federated executor; HTTP through the one Apollo
 * plugin below. A check is never an Apollo plugin of its own: Apollo Server starts every plugin's
 * `didResolveOperation` at once, so a refusal by the limits would not stop authorization from
 * expanding the very document they refused.
 */
import { print, type DocumentNode, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from './context';
import type { CheckedOperation, GatewayExtension, OperationCheck } from './extension';
import { sha256 } from './sha256';

/** Runs the checks in order; a check throws (a GraphQLError) to refuse, and the later ones never run. */
export function runChecks(extensions: readonly GatewayExtension[], check: OperationCheck): CheckedOperation {
  let { document, operation } = check;
  let queryHash: string | undefined;
  const finishers: Array<(result: ExecutionResult) => ExecutionResult> = [];
  for (const extension of extensions) {
    const verdict = extension.checkOperation?.({ ...check, document, operation });
    if (verdict?.document) {
      document = verdict.document;
      queryHash = verdict.queryHash;
      operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition' && d.name?.value === operation.name?.value) ?? operation;
    }
    if (verdict?.finish) finishers.push(verdict.finish);
  }
  // The last check's finish runs first: each undoes its own rewrite in the reverse order of the rewrites.
  return { document, queryHash, finish: (result) => finishers.reduceRight((amended, finish) => finish(amended), result) };
}

/** The pipeline on HTTP (batched requests too: Apollo Server runs each operation of a batch through its plugins). */
export function checkPipelinePlugin(check: (operation: OperationCheck) => CheckedOperation): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      let finish: CheckedOperation['finish'] | undefined;
      return {
        async didResolveOperation(requestContext) {
          const { operation, schema, document, source, request, contextValue } = requestContext;
          // No operation to run (a wrong operationName): Apollo Gateway answers that itself.
          if (!operation) return;
          const checked = check({ source, schema, document, operation, variables: request.variables, context: contextValue });
          finish = checked.finish;
          if (checked.document === document) return;
          // The gateway plans from the document and keys its plan store by this hash: both change.
          const mutable = requestContext as { document: DocumentNode; queryHash: string };
          mutable.document = checked.document;
          mutable.queryHash = checked.queryHash ?? sha256(print(checked.document));
        },
        async willSendResponse({ response }) {
          if (!finish || response.body.kind !== 'single') return;
          const result = response.body.singleResult as ExecutionResult;
          const finished = finish(result);
          if (finished === result) return;
          response.body.singleResult.data = finished.data;
          (response.body.singleResult as { errors?: unknown }).errors = finished.errors;
        },
      };
    },
  };
}
