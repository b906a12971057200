/**
 * GraphQL-over-HTTP content negotiation, in one place for the gateway and every kit subgraph:
 * which media type answers a request (from its `Accept`), which request `Content-Type`s are
 * taken, and the status a GraphQL request error gets under each media type.
 *
 * The specification's rules: `application/graphql-response+json` answers a request error (refused
 * before execution: parse, validation, variable coercion, and Trellis's limits, which are
 * validation rules) with 400; `application/json`, the legacy type, answers every well-formed
 * request with 200, errors in the body, because legacy clients read a non-2xx as a transport
 * failure and drop the errors. No `Accept`, or `*` / `*`, is a legacy client: `application/json`.
 * Refusals outside GraphQL (401, 403, 413, 429, 503, an ill-formed request's 400) keep their
 * status under both types. Incremental delivery (`multipart/mixed`, @defer and multipart
 * subscriptions) is to be offered here too, beside the two JSON types: until then an `Accept` that
 * admits only it is refused with 406 before anything runs (Apollo Server would run a mutation
 * first and refuse after).
 */
import type { Request, RequestHandler, Response } from 'express';
import { graphqlError } from './jsonErrors';

export const GraphQLMediaType = {
  GRAPHQL_RESPONSE_JSON: 'application/graphql-response+json',
  JSON: 'application/json',
} as const;
export type GraphQLMediaType = (typeof GraphQLMediaType)[keyof typeof GraphQLMediaType];

/**
 * The single-result types as offered to express's negotiation (`accepts`), in the order a tie is
 * broken: `application/json` first, the spec's legacy rule for no `Accept` and `*` / `*`. Offered
 * with their charset so an `Accept: application/json; charset=utf-8` matches too.
 */
const SINGLE_RESULT_OFFERS = [`${GraphQLMediaType.JSON}; charset=utf-8`, `${GraphQLMediaType.GRAPHQL_RESPONSE_JSON}; charset=utf-8`];

/** The media type a single result is answered with, or undefined when the request's `Accept` admits neither JSON type. */
export function answerMediaType(req: Pick<Request, 'accepts'>): GraphQLMediaType | undefined {
  const offer = req.accepts(SINGLE_RESULT_OFFERS);
  return offer ? (essenceOf(offer) as GraphQLMediaType) : undefined;
}

/** The code of an error that says the HTTP request itself is ill-formed (bad JSON, no query): 400 under both types. */
const ILL_FORMED_CODES = new Set(['BAD_REQUEST']);

/**
 * The status an answer of `status` goes out with under `mediaType`: a 400 for a GraphQL request
 * error of a well-formed request is 200 under `application/json`. `body` is the answer's JSON
 * (one result, or a batch's array), read only for a 400.
 */
export function answerStatus(mediaType: GraphQLMediaType | undefined, status: number, body: () => unknown): number {
  if (status !== 400 || mediaType !== GraphQLMediaType.JSON) return status;
  return isRequestError(body()) ? 200 : status;
}

function isRequestError(body: unknown): boolean {
  const results = Array.isArray(body) ? body : [body];
  const codes = results.flatMap((result) => errorsOf(result).map((error) => error?.extensions?.code));
  return codes.length > 0 && codes.every((code) => typeof code === 'string' && !ILL_FORMED_CODES.has(code));
}

function errorsOf(result: unknown): Array<{ extensions?: { code?: unknown } } | undefined> {
  const errors = (result as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) ? errors : [];
}

/** The media type this request's answer was negotiated to (by `negotiateGraphQLAnswer`, mounted first on `/graphql`). */
export function negotiatedMediaType(res: Response): GraphQLMediaType | undefined {
  return res.locals.graphqlMediaType as GraphQLMediaType | undefined;
}

/** A GraphQL request error answered by express middleware (e.g. a batch limit): 400, or 200 under `application/json`. */
export function sendRequestError(res: Response, body: { errors: unknown[] }): void {
  res.status(answerStatus(negotiatedMediaType(res), 400, () => body)).json(body);
}

/**
 * First on `/graphql`: refuses, before the body is read, an `Accept` that admits no type we answer
 * with (406) and a POST body that is not JSON (415; CSRF prevention also needs this: a form or
 * text POST never runs). Sets the negotiated `Content-Type`, so a refusal written by any later
 * middleware (`res.json` keeps a type already set) speaks the client's type too.
 */
export function negotiateGraphQLAnswer(): RequestHandler {
  return (req, res, next) => {
    const mediaType = answerMediaType(req);
    if (!mediaType) {
      res.status(406).json(graphqlError(`Accept admits neither ${GraphQLMediaType.GRAPHQL_RESPONSE_JSON} nor ${GraphQLMediaType.JSON}`, 'NOT_ACCEPTABLE'));
      return;
    }
    res.locals.graphqlMediaType = mediaType;
    res.setHeader('content-type', `${mediaType}; charset=utf-8`);
    const contentType = req.header('content-type');
    if (req.method === 'POST' && contentType !== undefined && essenceOf(contentType) !== GraphQLMediaType.JSON) {
      res.status(415).setHeader('accept-post', GraphQLMediaType.JSON);
      res.json(graphqlError(`a POST body must be ${GraphQLMediaType.JSON}, not ${essenceOf(contentType) || 'empty'}`, 'UNSUPPORTED_MEDIA_TYPE'));
      return;
    }
    next();
  };
}

function essenceOf(contentType: string): string {
  return contentType.split(';', 1)[0]!.trim().toLowerCase();
}
