/** Errors of the HTTP layer (the JSON body parser, express) answered as GraphQL-shaped JSON, on the gateway and in every subgraph. */
import type { ErrorRequestHandler } from 'express';
import type { Logger } from '../logging';

export function graphqlError(message: string, code: string) {
  return { errors: [{ message, extensions: { code } }] };
}

/** Body-parser and other express errors as GraphQL-shaped JSON (a body over the limit: 413 PAYLOAD_TOO_LARGE; a charset other than UTF-8/16/32: 415 UNSUPPORTED_MEDIA_TYPE), never an HTML page or a stack trace. */
export function jsonErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: { status?: number; type?: string; message?: string; length?: number; limit?: number }, _req, res, next) => {
    if (res.headersSent) return next(error);
    const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) logger.error({ err: error }, 'unhandled request error');
    const [message, code] =
      error.type === 'entity.too.large'
        ? [`request body of ${error.length ?? 'more than ' + error.limit} bytes exceeds the limit of ${error.limit} bytes`, 'PAYLOAD_TOO_LARGE']
        : error.type === 'entity.parse.failed'
          ? ['request body is not valid JSON', 'BAD_REQUEST']
          : error.type === 'charset.unsupported' || error.type === 'encoding.unsupported'
            ? [error.message ?? 'unsupported charset', 'UNSUPPORTED_MEDIA_TYPE']
            : status === 500
              ? ['internal error', 'INTERNAL_SERVER_ERROR']
              : [error.message ?? 'bad request', 'BAD_REQUEST'];
    res.status(status).json(graphqlError(message, code));
  };
}
