/**
 * What every subgraph limits by itself, with no code from its author: a caller that reaches its
 * port directly, not through the gateway, meets the gateway's limits here too. Tokens while
 * parsing, then `_entities` representations, then depth, introspection depth, aliases, root
 * fields, directives and estimated cost with the gateway's own measure (shared/limits), on HTTP
 * and graphql-ws alike; the body and WebSocket message sizes are capped where the kit mounts them.
 *
 * The subgraph's cost weights are its own `@cost`/`@listSize` (the ones composition puts in the
 * supergraph for its fields), and `_entities` counts as one entity: the representation cap bounds
 * how many, and the cost limit what each may select. The gateway's estimate of a query is at least
 * the cost of any one entity it fetches, so whatever it allows a subgraph allows too.
 */
import { getOperationAST, GraphQLError, parse, validate, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { RequestHandler } from 'express';
import type { Config } from '../config';
import { enforceOperationLimits, introspectionDepthError, MeasureCache, readCostDirectives, tokenLimitError, validationBudgetError, type CostDirectives } from '../limits';
import { countRepresentations, enforceRepresentationLimit, ENTITIES_FIELD } from './representations';

export interface SubgraphLimits {
  /** The parser's token limit (Apollo's `parseOptions.maxTokens`). */
  maxTokens: number;
  /**
   * The check on HTTP, before Apollo Server: Apollo validates before any plugin hook runs, and
   * validating what the limits refuse (ten thousand repeated fields, a directive flood) is the
   * expensive part. Apollo parses again what passes; what does not parse is left to it.
   */
  httpCheck: RequestHandler;
  /** Parse and validation refusals that are limits (tokens, introspection depth) with their own codes. */
  formatError(formatted: GraphQLFormattedError): GraphQLFormattedError;
  /** A graphql-ws operation parsed (with the token limit), checked, then validated: its document, or why not. */
  prepare(query: string, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): { document: DocumentNode } | { errors: GraphQLError[] };
}

/**
 * Documents kept by their text, so that the gateway's fetches (the same few texts again and again)
 * are parsed and measured once, not on every request: the measure is cached on the document.
 * Bounded in count and in the size of what is kept.
 */
const KEPT_DOCUMENTS = 256;
const KEPT_QUERY_CHARS = 16 * 1024;

/** Parsed and checked, not yet validated; or the refusal. */
type Checked = { document: DocumentNode } | { parseError: GraphQLError } | { refusal: GraphQLError };

export function subgraphLimits(config: Pick<Config, 'limits' | 'subgraph'>, schema: GraphQLSchema, typeDefs: DocumentNode): SubgraphLimits {
  const { maxTokens, maxRepresentations } = config.subgraph.limits;
  const costDirectives = perEntity(readCostDirectives(typeDefs), schema.getQueryType()?.name ?? 'Query');
  const measures = new MeasureCache();
  const formatters = [tokenLimitError(maxTokens), introspectionDepthError(config.limits.maxIntrospectionDepth), validationBudgetError];
  const formatError = (formatted: GraphQLFormattedError) => formatters.reduce((current, format) => format(current), formatted);
  const check = (document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined) => {
    enforceRepresentationLimit(countRepresentations(document, operation, variables), maxRepresentations);
    enforceOperationLimits(config.limits, schema, document, operation, variables, costDirectives, measures);
  };
  // The measure reads an unvalidated document safely: unknown fields count as plain ones, cycles end.
  const documents = new Map<string, DocumentNode>();
  const parsed = (query: string): DocumentNode => {
    const kept = documents.get(query);
    if (kept) {
      // Most recently used last: the first entry is the one to drop.
      documents.delete(query);
      documents.set(query, kept);
      return kept;
    }
    const document = parse(query, { maxTokens });
    if (query.length <= KEPT_QUERY_CHARS) {
      if (documents.size >= KEPT_DOCUMENTS) documents.delete(documents.keys().next().value!);
      documents.set(query, document);
    }
    return document;
  };
  const parseAndCheck = (query: string, operationName: string | undefined, variables: Record<string, unknown> | undefined): Checked => {
    let document: DocumentNode;
    try {
      document = parsed(query);
    } catch (error) {
      // Coded as Apollo codes it on HTTP, so formatError reads both transports' refusals alike.
      return { parseError: coded(error, 'GRAPHQL_PARSE_FAILED') };
    }
    const operation = getOperationAST(document, operationName);
    try {
      if (operation) check(document, operation, variables);
    } catch (error) {
      if (error instanceof GraphQLError) return { refusal: error };
      throw error;
    }
    return { document };
  };
  return {
    maxTokens,
    httpCheck: (req, res, next) => {
      const body = req.body as { query?: unknown; operationName?: unknown; variables?: unknown } | undefined;
      // A GET carries the operation in the query string (variables as JSON), a POST in its body.
      const source = req.method === 'GET' ? (req.query as Record<string, unknown>) : body && !Array.isArray(body) ? body : undefined;
      if (!source || typeof source.query !== 'string') return next();
      const checked = parseAndCheck(source.query, typeof source.operationName === 'string' ? source.operationName : undefined, variablesOf(source.variables));
      if (!('refusal' in checked)) return next();
      const { message, extensions } = checked.refusal;
      const { http, ...shown } = extensions as { http?: { status?: number } };
      res.status(http?.status ?? 400).json({ errors: [{ message, extensions: shown }] });
    },
    formatError,
    prepare(query, operationName, variables) {
      const checked = parseAndCheck(query, operationName ?? undefined, variables ?? undefined);
      if ('parseError' in checked) return { errors: [checked.parseError] };
      if ('refusal' in checked) return { errors: [checked.refusal] };
      const invalid = validate(schema, checked.document);
      if (invalid.length > 0) return { errors: invalid.map((error) => coded(error, 'GRAPHQL_VALIDATION_FAILED')) };
      if (!getOperationAST(checked.document, operationName ?? undefined)) return { errors: [new GraphQLError('Unable to identify operation', { extensions: { code: 'BAD_REQUEST' } })] };
      return { document: checked.document };
    },
  };
}

/** Variables as sent: an object in a POST body, JSON text in a GET query string. */
function variablesOf(raw: unknown): Record<string, unknown> | undefined {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** `_entities` as one entity in the cost: its size is the representations, capped on their own. */
function perEntity(directives: CostDirectives, queryType: string): CostDirectives {
  const listSizes = new Map(directives.listSizes);
  listSizes.set(`${queryType}.${ENTITIES_FIELD}`, { assumedSize: 1, slicingArguments: [], requireOneSlicingArgument: false });
  return { weights: directives.weights, listSizes };
}

function coded(error: unknown, code: string): GraphQLError {
  const original = error instanceof GraphQLError ? error : new GraphQLError(String(error));
  return new GraphQLError(original.message, { nodes: original.nodes, source: original.source, positions: original.positions, extensions: { ...original.extensions, code } });
}
