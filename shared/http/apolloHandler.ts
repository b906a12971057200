/**
 * Apollo Server as an express handler, for the gateway and the kit's subgraphs.
 *
 * It does what `@as-integrations/express5` does (the request's method, headers, query string and
 * parsed body in; Apollo's status, headers and body out, streamed when Apollo streams), minus
 * three per-request costs that showed in the gateway's CPU profile (test/bench/RESULTS.md): the
 * legacy `url.parse` of the whole URL to read its query string (1.5% of the gateway's busy time),
 * express's `res.send`, which hashes every answer into an ETag that no GraphQL client sends back,
 * and its content negotiation. It also hands a failure to express's error handler instead of
 * dropping the promise.
 *
 * ```ts
 * app.use('/graphql', negotiateGraphQLAnswer(), express.json(), apolloHandler(apollo, (req, res) => buildContext(req, res)));
 * ```
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HeaderMap, type ApolloServer, type BaseContext, type HTTPGraphQLRequest } from '@apollo/server';
import { answerStatus, negotiatedMediaType } from './graphqlOverHttp';

export type ContextOf<TContext> = (req: Request, res: Response) => Promise<TContext>;

export function apolloHandler<TContext extends BaseContext>(server: ApolloServer<TContext>, context: ContextOf<TContext>): RequestHandler {
  server.assertStarted('apolloHandler()');
  return (req: Request, res: Response, next: NextFunction) => {
    serve(server, context, req, res).catch(next);
  };
}

async function serve<TContext extends BaseContext>(server: ApolloServer<TContext>, context: ContextOf<TContext>, req: Request, res: Response): Promise<void> {
  if (!('body' in req)) throw new Error('req.body is not set: mount a JSON body parser (express.json()) before the Apollo handler');
  const response = await server.executeHTTPGraphQLRequest({ httpGraphQLRequest: requestOf(req), context: () => context(req, res) });
  for (const [name, value] of response.headers) res.setHeader(name, value);
  if (response.body.kind === 'complete') {
    const { string } = response.body;
    // A request error is 400 under application/graphql-response+json, 200 under application/json (graphqlOverHttp.ts).
    res.statusCode = answerStatus(negotiatedMediaType(res), response.status ?? 200, () => JSON.parse(string) as unknown);
    res.end(req.method === 'HEAD' ? undefined : string);
    return;
  }
  res.statusCode = response.status ?? 200;
  // Incremental delivery (@defer): each part as it comes, flushed through compression if any.
  for await (const chunk of response.body.asyncIterator) {
    res.write(chunk);
    (res as Response & { flush?: () => void }).flush?.();
  }
  res.end();
}

/** The request as Apollo reads it; a repeated header is joined with ", " as HTTP allows. */
export function requestOf(req: Request): HTTPGraphQLRequest {
  const headers = new HeaderMap();
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const url = req.url;
  const query = url.indexOf('?');
  return { method: req.method.toUpperCase(), headers, search: query === -1 ? '' : url.slice(query), body: req.body as unknown };
}
