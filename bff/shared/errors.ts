/**
 * HTTP errors of the BFFs: each has a status, a stable `code` and a message a client developer can
 * act on. The error handler turns anything thrown into a JSON body; never a stack trace.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z, ZodError, ZodTypeAny } from 'zod';
import { TrellisError } from '@trellis/kit';
import type { Logger } from '@trellis/kit';

export class HttpError extends TrellisError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    options: { retriable?: boolean; cause?: unknown; details?: unknown; retryAfterSec?: number } = {},
  ) {
    super(code, message, options);
    this.details = options.details;
    this.retryAfterSec = options.retryAfterSec;
  }
  readonly details?: unknown;
  /** Sent as `Retry-After` (seconds). */
  readonly retryAfterSec?: number;
}

/** The JSON every BFF error answers with. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; correlationId?: string };
}

export const badRequest = (message: string, details?: unknown) => new HttpError(400, 'BAD_REQUEST', message, { details });
export const unauthenticated = (message: string) => new HttpError(401, 'UNAUTHENTICATED', message);
export const notFound = (message: string) => new HttpError(404, 'NOT_FOUND', message);

/** Parses `value` with `schema`, or throws a 400 that lists every wrong field. */
export function validate<S extends ZodTypeAny>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw badRequest(`invalid ${what}`, describeZod(parsed.error));
  return parsed.data as z.output<S>;
}

function describeZod(error: ZodError): Array<{ path: string; message: string }> {
  return error.issues.map((issue) => ({ path: issue.path.join('.') || '(root)', message: issue.message }));
}

/** Last route: anything not matched is a 404 that names the method and path. */
export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(notFound(`no route for ${req.method} ${req.path}`));
};

/** body-parser's errors (bad JSON, too large, wrong charset) keep their status; ours keep theirs; the rest are 500s. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const http = toHttpError(error);
    if (http.status >= 500 && http.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error, path: req.path }, 'request failed');
    if (http.retryAfterSec !== undefined) res.setHeader('retry-after', String(http.retryAfterSec));
    const body: ErrorBody = { error: { code: http.code, message: http.message, details: http.details, correlationId: res.locals.correlationId as string | undefined } };
    res.status(http.status).json(body);
  };
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const parser = error as { type?: string; status?: number; limit?: number };
  if (parser.type === 'entity.too.large') return new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${parser.limit} bytes`);
  if (parser.type === 'entity.parse.failed') return new HttpError(400, 'BAD_JSON', 'request body is not valid JSON');
  if (parser.type === 'charset.unsupported' || parser.type === 'encoding.unsupported') return new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'request body must be UTF-8 JSON');
  if (error instanceof TrellisError) {
    const status = error.code === 'UNAUTHENTICATED' ? 401 : error.code === 'BAD_USER_INPUT' ? 400 : error.code === 'NOT_FOUND' ? 404 : error.retriable ? 503 : 500;
    return new HttpError(status, error.code, error.message, { retryAfterSec: error.retriable ? 1 : undefined });
  }
  return new HttpError(500, 'INTERNAL_SERVER_ERROR', 'internal error');
}
