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
 * status under both types.
 *
 * Beside the two JSON types, a server may offer `multipart/mixed` answers (RFC 1341 parts, written by
 * multipart.ts), each named by the Accept parameter a client lists it with: multipart subscriptions
 * (`subscriptionSpec=1.0`, Apollo's protocol) and incremental delivery for @defer in its two wire
 * formats (`deferSpec=20220824`, Apollo's; `incrementalSpec=v0.2`, graphql-js 17's). Negotiation
 * records which of the offered ones the client takes; which one an operation gets is decided where
 * the operation is known (`answerFor`): a client that admits JSON and multipart gets JSON for an
 * operation that is neither a subscription nor deferred. An `Accept` that admits none of the offered
 * types is refused with 406 before anything runs (Apollo Server would run a mutation first and
 * refuse after).
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

/** The `multipart/mixed` formats, each as the Accept parameter that names it (and that its answer's Content-Type carries). */
export const MultipartSpec = {
  SUBSCRIPTION: 'subscriptionSpec=1.0',
  DEFER_20220824: 'deferSpec=20220824',
  INCREMENTAL_V0_2: 'incrementalSpec=v0.2',
} as const;
export type MultipartSpec = (typeof MultipartSpec)[keyof typeof MultipartSpec];

const INCREMENTAL_SPECS: readonly MultipartSpec[] = [MultipartSpec.DEFER_20220824, MultipartSpec.INCREMENTAL_V0_2];

/** What a request's `Accept` admits among what the server offers. */
export interface AcceptedAnswers {
  /** The type a single result goes out with; undefined when the client admits neither JSON type. */
  json?: GraphQLMediaType;
  /** The offered multipart formats the client admits, its preferred first (by q, then by order). */
  multipart: MultipartSpec[];
}

/** What the request admits among the JSON types and the `offered` multipart formats. */
export function acceptedAnswers(req: Pick<Request, 'accepts' | 'headers'>, offered: readonly MultipartSpec[] = []): AcceptedAnswers {
  return { json: answerMediaType(req), multipart: offered.length === 0 ? [] : multipartSpecsIn(req.headers.accept, offered) };
}

/** How one operation is answered: a single result in a JSON type, or a stream of multipart parts. */
export type Answer = { kind: 'single'; mediaType: GraphQLMediaType } | { kind: 'multipart'; spec: MultipartSpec };

/**
 * How an operation is answered, once its kind is known; undefined when the client admits nothing
 * it can be answered with (a 406, before it runs). A subscription streams when the client takes
 * multipart subscriptions; a deferred operation streams in the client's preferred incremental
 * format, else is answered whole; any other operation is one JSON result, or one incremental part
 * for a client that admits only incremental delivery (as Apollo Router answers it).
 */
export function answerFor(accepted: AcceptedAnswers, operation: { isSubscription: boolean; isDeferred: boolean }): Answer | undefined {
  const single = accepted.json && ({ kind: 'single', mediaType: accepted.json } as const);
  const incremental = accepted.multipart.find((spec) => INCREMENTAL_SPECS.includes(spec));
  const streamed = (spec: MultipartSpec | undefined) => spec && ({ kind: 'multipart', spec } as const);
  if (operation.isSubscription) return streamed(accepted.multipart.find((spec) => spec === MultipartSpec.SUBSCRIPTION)) ?? single;
  if (operation.isDeferred) return streamed(incremental) ?? single;
  return single || streamed(incremental);
}

/**
 * The offered multipart formats an `Accept` admits: a `multipart/mixed` entry with q > 0 whose
 * parameter names the format (quoted or not, e.g. Apollo Client 4's
 * `multipart/mixed;boundary=graphql;subscriptionSpec=1.0`). A bare `multipart/mixed` or `*` / `*`
 * names no format, so admits none: the client would not know how to read the parts.
 */
function multipartSpecsIn(accept: string | undefined, offered: readonly MultipartSpec[]): MultipartSpec[] {
  const admitted: Array<{ spec: MultipartSpec; q: number; order: number }> = [];
  splitOutsideQuotes(accept ?? '', ',').forEach((entry, order) => {
    const [type = '', ...parameters] = splitOutsideQuotes(entry, ';');
    if (type.trim().toLowerCase() !== 'multipart/mixed') return;
    const values = new Map(parameters.map((parameter) => {
      const equals = parameter.indexOf('=');
      return [parameter.slice(0, equals).trim().toLowerCase(), unquote(parameter.slice(equals + 1).trim())];
    }));
    const q = Number(values.get('q') ?? '1');
    if (!(q > 0)) return;
    for (const spec of offered) {
      const [name = '', value] = spec.split('=');
      if (values.get(name.toLowerCase()) === value) admitted.push({ spec, q, order });
    }
  });
  admitted.sort((a, b) => b.q - a.q || a.order - b.order);
  return [...new Set(admitted.map(({ spec }) => spec))];
}

/** `text` split at each `separator` outside a quoted string (RFC 9110 quoted-string, with its backslash escapes). */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted && char === '\\') i++;
    else if (char === '"') quoted = !quoted;
    else if (!quoted && char === separator) {
      pieces.push(text.slice(start, i));
      start = i + 1;
    }
  }
  pieces.push(text.slice(start));
  return pieces;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
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

/** What this request's `Accept` admits, as `negotiateGraphQLAnswer` recorded it (undefined before it ran). */
export function negotiatedAnswers(res: Response): AcceptedAnswers | undefined {
  return res.locals.graphqlAnswers as AcceptedAnswers | undefined;
}

/** A GraphQL request error answered by express middleware (e.g. a batch limit): 400, or 200 under `application/json`. */
export function sendRequestError(res: Response, body: { errors: unknown[] }): void {
  res.status(answerStatus(negotiatedMediaType(res), 400, () => body)).json(body);
}

export interface NegotiationOptions {
  /** The multipart formats this server answers with besides JSON (none in a kit subgraph). */
  multipart?: readonly MultipartSpec[];
}

/**
 * First on `/graphql`: refuses, before the body is read, an `Accept` that admits no type we answer
 * with (406) and a POST body that is not JSON (415; CSRF prevention also needs this: a form or
 * text POST never runs). Records what the client admits (`negotiatedAnswers`) and sets the
 * negotiated `Content-Type`, so a refusal written by any later middleware (`res.json` keeps a type
 * already set) speaks the client's type too: `application/json`, the legacy default, for a client
 * that admits only multipart answers.
 */
export function negotiateGraphQLAnswer({ multipart = [] }: NegotiationOptions = {}): RequestHandler {
  const offered = [GraphQLMediaType.GRAPHQL_RESPONSE_JSON, GraphQLMediaType.JSON, ...multipart.map((spec) => `multipart/mixed;${spec}`)];
  return (req, res, next) => {
    const accepted = acceptedAnswers(req, multipart);
    if (!accepted.json && accepted.multipart.length === 0) {
      res.status(406).json(graphqlError(`Accept admits none of ${offered.join(', ')}`, 'NOT_ACCEPTABLE'));
      return;
    }
    const mediaType = accepted.json ?? GraphQLMediaType.JSON;
    res.locals.graphqlAnswers = accepted;
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
