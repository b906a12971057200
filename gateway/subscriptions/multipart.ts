/**
 * Multipart HTTP subscriptions on `/graphql` (Apollo's protocol, Apollo Client's default transport
 * for subscriptions): a POST whose `Accept` admits `multipart/mixed;subscriptionSpec=1.0` and whose
 * operation is a subscription gets each event as a part `{"payload": <result>}`, a heartbeat `{}`
 * when nothing else went out for a while, and at a fatal end (the subgraph connection lost, the
 * token expired, the gateway stopping) a transport-level error `{"payload": null, "errors": [...]}`
 * before the closing delimiter. Any other request goes on to Apollo Server.
 *
 * The operation runs through HttpStreams, as SSE's do: the same checks, slots, expiry and spans; a
 * refusal before the stream opens is the same JSON answer and status as on SSE, and one inside it
 * (limits, no slot) the same result, here as the one part before the end.
 */
import type { Request, RequestHandler, Response } from 'express';
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Logger } from '@trellis/kit';
import { answerFor, graphqlError, MultipartSpec, negotiatedAnswers, writeMultipart } from '@trellis/kit/internal';
import type { GatewayHost } from '../extension';
import type { PersistableRequest, ResolvedDocument } from '../persisted/documents';
import type { FederatedExecutor } from './federatedExecutor';
import type { HttpStreams, OpenedStream } from './httpStreams';
import { clientError } from './clientError';
import { tokenExpiredError } from './expiry';

export interface MultipartSubscriptionSettings {
  /** A heartbeat `{}`, every this many ms in which no event went out (MULTIPART_HEARTBEAT_MS); 0: none. */
  heartbeatMs: number;
  logger?: Logger;
}

/** What serving needs, there once the gateway mounted the subscriptions. */
export interface MultipartParts {
  host: GatewayHost;
  executor: FederatedExecutor;
  streams: HttpStreams;
}

type Body = PersistableRequest & { variables?: Record<string, unknown> | null; operationName?: string | null };

/** The `/graphql` middleware (after the JSON body parser, before Apollo Server); `parts()` is undefined until mounted. */
export function multipartSubscriptions(
  parts: () => MultipartParts | undefined,
  { heartbeatMs, logger }: MultipartSubscriptionSettings,
): RequestHandler {
  return (req, res, next) => {
    const mounted = parts();
    const accepted = negotiatedAnswers(res);
    const body = req.body as unknown;
    if (
      !mounted ||
      req.method !== 'POST' ||
      !accepted?.multipart.includes(MultipartSpec.SUBSCRIPTION) ||
      !body ||
      typeof body !== 'object' ||
      Array.isArray(body)
    )
      return next();
    serve(mounted, req, res, next, body as Body).catch((error: unknown) => {
      logger?.error({ err: error }, 'multipart subscription failed');
      if (!res.headersSent) next(error);
      else res.destroy();
    });
  };

  async function serve(
    { host, executor, streams }: MultipartParts,
    req: Request,
    res: Response,
    next: (error?: unknown) => void,
    params: Body,
  ): Promise<void> {
    let resolved: ResolvedDocument;
    try {
      resolved = await host.resolveDocument(params);
    } catch {
      // A persisted query's refusal (an unknown hash: the client resends with the query) is answered as on HTTP.
      return next();
    }
    const prepared = executor.prepare({
      query: resolved.query,
      variables: params.variables ?? undefined,
      operationName: params.operationName ?? undefined,
    });
    // A document that does not parse or validate is answered by Apollo Server, as any other.
    if ('errors' in prepared) return next();
    const answer = answerFor(negotiatedAnswers(res)!, {
      isSubscription: prepared.operation.operation === 'subscription',
      isDeferred: false,
    });
    if (!answer) {
      res
        .status(406)
        .json(
          graphqlError(
            `a ${prepared.operation.operation} is not answered as a multipart subscription: Accept application/json or application/graphql-response+json too`,
            'NOT_ACCEPTABLE',
          ),
        );
      return;
    }
    if (answer.kind !== 'multipart' || answer.spec !== MultipartSpec.SUBSCRIPTION) return next();
    const opened = await streams.start({
      method: req.method,
      params,
      header: (name) => req.header(name),
      rawHeaders: req.headers,
      clientAddress: req.socket.remoteAddress,
      correlationId: res.locals.correlationId as string | undefined,
      res,
      resolved,
      prepared,
    });
    if (opened.kind === 'refused') {
      res.status(opened.status).set(opened.headers).json(opened.body);
      return;
    }
    await writeMultipart(res, () => partsOf(opened, host), {
      spec: MultipartSpec.SUBSCRIPTION,
      heartbeatMs,
      // The operation failed inside the gateway: a transport-level error, then the end.
      failurePart: (error) => {
        logger?.error({ err: error }, 'multipart subscription failed');
        return transportError([
          clientError(host, new GraphQLError('internal error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })),
        ]);
      },
    });
  }
}

/** Each result as its part, and a transport-level error for a fatal end. */
async function* partsOf(opened: OpenedStream, host: GatewayHost): AsyncGenerator<unknown> {
  for await (const result of opened.results)
    yield isConnectionLost(result) ? transportError(result.errors!) : { payload: result };
  const interruption = opened.interruption();
  if (interruption === 'stopping')
    yield transportError([
      clientError(
        host,
        new GraphQLError('the gateway is stopping: subscribe again', { extensions: { code: 'SHUTTING_DOWN' } }),
      ),
    ]);
  if (interruption === 'token expired') yield transportError([clientError(host, tokenExpiredError())]);
}

/** The upstream subscription's connection was lost (the last event: the upstream ends after it), not a result. */
function isConnectionLost(result: ExecutionResult): boolean {
  return (
    result.data === undefined &&
    !!result.errors?.length &&
    result.errors.every((error) => error.extensions?.code === 'SUBGRAPH_UNAVAILABLE')
  );
}

function transportError(errors: readonly unknown[]) {
  return { payload: null, errors };
}
