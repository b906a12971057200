/**
 * The BFF's one way to the gateway: a GraphQL POST over undici, through a breaker (the kit's
 * `createGuard`) with a deadline. A gateway that is down, slow or open-circuited fails fast with
 * `GatewayUnavailableError`, which the apps answer with 503 and `Retry-After`.
 */
import { Agent, request } from 'undici';
import { CORRELATION_ID_HEADER, createGuard, injectTrace, inSpan, SpanKind, TrellisError, type Logger, type Registry, type Span } from '@trellis/kit';
import type { BreakerSettings } from '@trellis/kit';
import { HttpError } from './errors';

export interface GraphQLErrorBody {
  message: string;
  path?: Array<string | number>;
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GraphQLBody<T> {
  data?: T | null;
  errors?: GraphQLErrorBody[];
}

export interface GatewayRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  /** The caller's access token, forwarded as `Authorization: Bearer`. */
  token?: string;
  correlationId: string;
}

export interface GatewayResponse<T> {
  status: number;
  body: GraphQLBody<T>;
}

/** An answer read as it comes (an incremental `multipart/mixed` one), to be passed on unbuffered. */
export interface GatewayStream {
  status: number;
  contentType: string;
  /** The body's bytes as the gateway sends them. */
  body: AsyncIterable<Uint8Array>;
  /** Stops reading and closes the connection (the caller left). */
  abort(): void;
}

export interface GatewayClient {
  /** Any answer the gateway gives in GraphQL form (200 or 4xx); throws GatewayUnavailableError otherwise. */
  execute<T = Record<string, unknown>>(request: GatewayRequest): Promise<GatewayResponse<T>>;
  /**
   * The request sent with the caller's `accept` (say, multipart/mixed for @defer) and its answer
   * handed back as it streams: the deadline and the breaker cover the gateway's answering (status
   * and headers), not the parts that follow, which come as the gateway's own deadlines allow.
   */
  stream(request: GatewayRequest & { accept: string }): Promise<GatewayStream>;
  close(): Promise<void>;
}

/** The gateway could not be reached, answered 5xx, timed out, or its breaker is open. */
export class GatewayUnavailableError extends HttpError {
  constructor(reason: string, retryAfterSec: number, cause?: unknown) {
    super(503, 'GATEWAY_UNAVAILABLE', `the gateway is unavailable (${reason}); retry later`, { retriable: true, retryAfterSec, cause });
  }
}

export interface GatewayClientOptions {
  url: string;
  timeoutMs: number;
  breaker: Omit<BreakerSettings, 'timeoutMs'>;
  logger: Logger;
  registry?: Registry;
}

/** A gateway failure the breaker counts (the guard turns it into its own error; we keep the reason). */
class GatewayFailure extends TrellisError {
  constructor(message: string, cause?: unknown) {
    super('GATEWAY_FAILURE', message, { retriable: true, cause });
  }
}

export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const { url, timeoutMs, logger } = options;
  const dispatcher = new Agent({ keepAliveTimeout: 10_000, connectTimeout: Math.min(timeoutMs, 2000) });
  const guard = createGuard({ registry: options.registry, logger });
  const retryAfterSec = Math.max(1, Math.ceil(options.breaker.resetTimeoutMs / 1000));

  // The gateway call's client span; its context rides in the request's W3C headers.
  const inClientSpan = <T>(input: GatewayRequest, call: (span: Span) => Promise<T>) =>
    inSpan(`POST gateway${input.operationName ? ` ${input.operationName}` : ''}`, { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'POST', 'url.full': url, 'graphql.operation.name': input.operationName } }, call);
  /** The POST, answered up to its headers; `signal` ends it (a deadline, or the caller leaving). */
  const send = async (input: GatewayRequest, accept: string, signal: AbortSignal, span: Span) => {
    const headers: Record<string, string> = injectTrace({ 'content-type': 'application/json', accept, [CORRELATION_ID_HEADER]: input.correlationId });
    if (input.token) headers.authorization = `Bearer ${input.token}`;
    let response;
    try {
      response = await request(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: input.query, variables: input.variables, operationName: input.operationName }),
        dispatcher,
        signal,
      });
    } catch (error) {
      throw new GatewayFailure((error as { code?: string }).code ?? (error as Error).name, error);
    }
    span.setAttribute('http.response.status_code', response.statusCode);
    return response;
  };

  const post = guard(
    'gateway',
    (input: GatewayRequest): Promise<GatewayResponse<unknown>> => inClientSpan(input, async (span) => {
      const response = await send(input, 'application/json', AbortSignal.timeout(timeoutMs), span);
      const text = await response.body.text();
      if (response.statusCode >= 500) throw new GatewayFailure(`HTTP ${response.statusCode}`);
      try {
        return { status: response.statusCode, body: JSON.parse(text) as GraphQLBody<unknown> };
      } catch (error) {
        throw new GatewayFailure(`HTTP ${response.statusCode} without a GraphQL body`, error);
      }
    }),
    { ...options.breaker, timeoutMs },
  );

  // The same breaker name as `post`: a gateway failing one way is failing.
  const open = guard(
    'gateway',
    (input: GatewayRequest & { accept: string }): Promise<GatewayStream> => inClientSpan(input, async (span) => {
      const reading = new AbortController();
      const deadline = setTimeout(() => reading.abort(new GatewayFailure(`no answer within ${timeoutMs} ms`)), timeoutMs);
      let response;
      try {
        response = await send(input, input.accept, reading.signal, span);
      } finally {
        clearTimeout(deadline);
      }
      if (response.statusCode >= 500) {
        await response.body.dump();
        throw new GatewayFailure(`HTTP ${response.statusCode}`);
      }
      const contentType = response.headers['content-type'];
      return {
        status: response.statusCode,
        contentType: typeof contentType === 'string' ? contentType : 'application/json',
        body: response.body,
        abort: () => reading.abort(),
      };
    }),
    { ...options.breaker, timeoutMs },
  );

  const unavailable = (error: unknown, correlationId: string) => {
    const cause = (error as { cause?: unknown }).cause;
    const reason = cause instanceof GatewayFailure ? cause.message : error instanceof Error ? error.message.replace(/^gateway is unavailable \((.*)\)$/, '$1') : String(error);
    logger.warn({ reason, correlationId }, 'gateway call failed');
    return new GatewayUnavailableError(reason, retryAfterSec, error);
  };

  return {
    async execute<T>(input: GatewayRequest) {
      try {
        return (await post(input)) as GatewayResponse<T>;
      } catch (error) {
        throw unavailable(error, input.correlationId);
      }
    },
    async stream(input) {
      try {
        return await open(input);
      } catch (error) {
        throw unavailable(error, input.correlationId);
      }
    },
    close: () => dispatcher.close(),
  };
}
