/**
 * Caps a batched request (a JSON array body) before Apollo Server runs any of its operations:
 * Apollo Server runs them in parallel and has no cap of its own. The batch is refused when it
 * has too many operations, or when their estimated costs add up past the cost limit (each
 * operation alone under the limit, ten of them in one request are still ten times the work).
 */
import type { RequestHandler } from 'express';
import { getOperationAST, parse, type GraphQLSchema } from 'graphql';
import { LimitCode, LimitExceededError, measureOperation, sendRequestError, type CostDirectives } from '@trellis/kit/internal';

/** One element of a batch as the client sent it. */
export interface BatchedRequest {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
}

/** An operation's estimated cost; undefined when it cannot be measured here (Apollo Server then refuses or measures it alone). */
export type OperationCost = (request: BatchedRequest) => number | undefined;

export interface BatchLimits {
  maxBatch: number;
  maxCost: number;
}

export function batchLimit(limits: BatchLimits, costOf: OperationCost): RequestHandler {
  return (req, res, next) => {
    const body: unknown = req.body;
    if (!Array.isArray(body)) return next();
    const refuse = (error: LimitExceededError) =>
      // A request error like any limit's: 400, or 200 under application/json (GraphQL-over-HTTP).
      sendRequestError(res, { errors: [{ message: error.message, extensions: { code: error.code, measured: error.measured, limit: error.limit } }] });
    if (body.length > limits.maxBatch) {
      return refuse(new LimitExceededError(LimitCode.BATCH_TOO_LARGE, `batch of ${body.length} operations exceeds the limit of ${limits.maxBatch}`, body.length, limits.maxBatch));
    }
    const cost = body.reduce((sum: number, request: unknown) => sum + (isObject(request) ? (costOf(request) ?? 0) : 0), 0);
    if (cost > limits.maxCost) {
      return refuse(
        new LimitExceededError(LimitCode.QUERY_TOO_COSTLY, `estimated cost ${cost} of the batch (its operations added) exceeds the limit of ${limits.maxCost}`, cost, limits.maxCost),
      );
    }
    next();
  };
}

export interface CostSettings {
  maxTokens: number;
  defaultListSize: number;
}

/**
 * Measures a batched operation as the operation limits do: its estimated cost, or its fields once
 * fragments are inlined when they are more (a fan-out of `__typename` costs nothing to resolve, and
 * is still that much work to plan); a document that does not parse is left to Apollo Server.
 */
export function measureBatchedOperation(settings: CostSettings, schema: () => GraphQLSchema | undefined, costDirectives: () => CostDirectives): OperationCost {
  return ({ query, operationName, variables }) => {
    const current = schema();
    if (!current || typeof query !== 'string') return undefined;
    let document;
    try {
      document = parse(query, { maxTokens: settings.maxTokens });
    } catch {
      return undefined;
    }
    const operation = getOperationAST(document, typeof operationName === 'string' ? operationName : undefined);
    if (!operation) return undefined;
    const measure = measureOperation(current, document, operation, {
      defaultListSize: settings.defaultListSize,
      variables: isObject(variables) ? variables : undefined,
      costDirectives: costDirectives(),
    });
    return Math.max(measure.cost, measure.fields);
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
