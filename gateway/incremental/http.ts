/**
 * `@defer` over HTTP: a POST to `/graphql` whose `Accept` admits an incremental-delivery format
 * (`multipart/mixed;deferSpec=20220824` or `multipart/mixed;incrementalSpec=v0.2`) and whose
 * operation carries @defer is answered here, part by part, before Apollo Server (which would
 * answer the whole result at once). Anything else goes on to Apollo Server unchanged, and so does
 * a request Apollo Server answers better (a document it refuses, a persisted-query refusal,
 * variables that do not coerce): those are answered exactly as without @defer. A refusal by the
 * checks (limits, auth) is one JSON answer in the negotiated type, as for any query.
 */
import type { Request, RequestHandler, Response } from 'express';
import { BREAK, getVariableValues, GraphQLError, visit, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import { answerFor, MultipartSpec, negotiatedAnswers, sendRequestError, writeMultipart } from '@trellis/kit/internal';
import type { Logger } from '@trellis/kit';
import type { GatewayHost } from '../extension';
import type { FederatedExecutor, OperationRequest } from '../subscriptions/federatedExecutor';
import type { PersistableRequest } from '../persisted/documents';
import type { IncrementalPayload } from './payloads';
import type { GatewayMetrics, RequestOutcome } from '../observability';

type RequestMetrics = Pick<GatewayMetrics, 'recordRequest'>;
import { deferSpec20220824, incrementalSpecV02 } from './wire';

/** The formats this gateway streams @defer in. */
export const INCREMENTAL_SPECS = [MultipartSpec.DEFER_20220824, MultipartSpec.INCREMENTAL_V0_2] as const;

const WIRE = {
  [MultipartSpec.DEFER_20220824]: deferSpec20220824,
  [MultipartSpec.INCREMENTAL_V0_2]: incrementalSpecV02,
} as const;

export function deferredOverHttp(
  host: GatewayHost,
  executor: () => FederatedExecutor,
  logger?: Logger,
  metrics?: RequestMetrics,
): RequestHandler {
  return (req, res, next) => {
    const accepted = negotiatedAnswers(res);
    const body = req.body as (PersistableRequest & { variables?: unknown; operationName?: unknown }) | undefined;
    if (req.method !== 'POST' || !accepted || accepted.multipart.length === 0 || !body || typeof body !== 'object')
      return next();
    serve(req, res, host, executor(), body, logger, metrics).then(
      (served) => void (served || next()),
      (error: unknown) => {
        logger?.error({ err: error }, 'deferred request failed');
        next(error);
      },
    );
  };
}

/** Answers the request if it is streamed; false to leave it to Apollo Server (nothing was written). */
async function serve(
  req: Request,
  res: Response,
  host: GatewayHost,
  executor: FederatedExecutor,
  body: PersistableRequest & { variables?: unknown; operationName?: unknown },
  logger?: Logger,
  metrics?: RequestMetrics,
): Promise<boolean> {
  const { variables, operationName } = body;
  if (
    (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) ||
    (operationName != null && typeof operationName !== 'string')
  )
    return false;
  let request: OperationRequest;
  try {
    const resolved = await host.resolveDocument(body);
    request = {
      query: resolved.query,
      variables: (variables ?? undefined) as Record<string, unknown> | undefined,
      operationName: operationName ?? undefined,
      register: resolved.register,
    };
  } catch {
    return false;
  }
  const prepared = executor.prepare(request);
  if ('errors' in prepared || !executor.schema) return false;
  const answer = answerFor(negotiatedAnswers(res)!, {
    isSubscription: prepared.operation.operation === 'subscription',
    isDeferred: hasDefer(prepared.document),
  });
  if (answer?.kind !== 'multipart' || !(answer.spec in WIRE)) return false;
  if (getVariableValues(executor.schema, prepared.operation.variableDefinitions ?? [], request.variables ?? {}).errors)
    return false;

  let context;
  try {
    context = await host.buildContext((name) => req.header(name), {
      correlationId: res.locals.correlationId as string,
      clientAddress: req.socket.remoteAddress,
    });
  } catch (error) {
    // Refused while building the context (a bad token, the rate limit): the status and headers HTTP gives it.
    const { http, ...extensions } =
      (error as { extensions?: { http?: { status?: number; headers?: Map<string, string> } } }).extensions ?? {};
    for (const [name, value] of http?.headers ?? []) res.setHeader(name, value);
    res
      .status(http?.status ?? 401)
      .json({ errors: [host.formatError({ message: (error as Error).message, extensions }, error)] });
    return true;
  }
  for (const [name, value] of Object.entries(context.responseHeaders ?? {})) res.setHeader(name, value);

  // Counted and timed as Apollo Server's requests are (gateway/observability), until the last part.
  const started = performance.now();
  const record = (outcome: RequestOutcome) =>
    metrics?.recordRequest(prepared.operation.name?.value, outcome, (performance.now() - started) / 1000);
  const payloads = executor.executeIncremental(request, context, prepared)[Symbol.asyncIterator]();
  const first = await payloads.next();
  if (first.done) throw new Error('a deferred operation delivered nothing');
  if (first.value.kind === 'initial' && first.value.result.data === undefined) {
    // Refused before execution (limits, auth, planning): one JSON answer, with the status a normal query gets.
    sendRequestError(res, { errors: formatted(first.value.result.errors) ?? [] });
    record('error');
    return true;
  }
  const wire = WIRE[answer.spec as keyof typeof WIRE];
  const hasData = first.value.kind === 'initial' && first.value.result.data != null;
  let hasErrors = false;
  const seen = (payload: IncrementalPayload) => {
    hasErrors ||=
      payload.kind === 'initial'
        ? !!payload.result.errors?.length
        : payload.delivered.some(({ data, errors }) => data === null || !!errors?.length);
    return payload;
  };
  await writeMultipart(
    res,
    async function* () {
      yield wire(seen(first.value), formatted);
      for (let next = await payloads.next(); !next.done; next = await payloads.next())
        yield wire(seen(next.value as IncrementalPayload), formatted);
    },
    {
      spec: answer.spec,
      // The client learns the stream failed rather than waiting for parts that will not come; the cause is logged.
      failurePart: (error) => {
        logger?.error({ err: error }, 'deferred stream failed');
        hasErrors = true;
        return {
          hasNext: false,
          errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
        };
      },
    },
  );
  record(!hasErrors ? 'success' : hasData ? 'partial' : 'error');
  return true;
}

function formatted(errors: ReadonlyArray<GraphQLError> | undefined): GraphQLFormattedError[] | undefined {
  return errors?.map((error) => (error instanceof GraphQLError ? error.toJSON() : (error as GraphQLFormattedError)));
}

function hasDefer(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (node.name.value !== 'defer') return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}
