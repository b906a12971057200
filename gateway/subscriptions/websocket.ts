/** graphql-ws on the gateway's `/graphql`: every operation, subscriptions included, through the FederatedExecutor. */
import type { Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { CloseCode } from 'graphql-ws';
import { GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { GatewayHost } from '../extension';
import { errorMessage, quietClientProtocolErrors } from '@trellis/kit/internal';
import type { GatewayContext } from '../context';
import type { FederatedExecutor, OperationRequest } from './federatedExecutor';
import type { PreparedOperation } from './preparedDocuments';
import { extractTrace } from '@trellis/kit';
import { clientKey } from '@trellis/kit';
import type { ResolvedDocument } from '../persisted/documents';
// The kit's reader, so the gateway and a subgraph reached directly take the token from the same places.
import { connectionParamsHeaders } from '@trellis/kit/internal';
import { clientError } from './clientError';
import { TOKEN_EXPIRED_CLOSE_CODE, TOKEN_EXPIRED_MESSAGE, whenTokenExpires } from './expiry';
import type { ConnectionSlots, Slot, SubscriptionSlots } from './slots';

function withOperationTrace(context: GatewayContext, extensions: Readonly<Record<string, unknown>> | null | undefined): GatewayContext {
  const headers = extensions?.headers as Record<string, unknown> | undefined;
  if (typeof headers?.traceparent !== 'string') return context;
  return { ...context, traceParent: extractTrace({ traceparent: headers.traceparent, ...(typeof headers.tracestate === 'string' ? { tracestate: headers.tracestate } : {}) }) };
}

interface OperationValue {
  context: GatewayContext;
  request: OperationRequest;
  /** Parsed and validated in onSubscribe: execution does not do it again. */
  prepared: PreparedOperation;
  abort: AbortController;
}

interface OpenOperation {
  abort: AbortController;
  /** A subscription's place in the caps (none for a query or mutation, which ends with its one result). */
  slot?: Slot;
}

interface Connection {
  context: GatewayContext;
  operations: Map<string, OpenOperation>;
  slots: ConnectionSlots;
  /** Whom the per-caller cap counts: the verified identity, else the address. */
  caller: string;
  /** Stops the close at the token's expiry (the connection closed first). */
  cancelExpiry: () => void;
}

export interface WebSocketSettings {
  /** The largest message, the same bound as `/graphql`'s body. */
  maxBodyBytes: number;
  /** Open subscriptions per connection and per caller. */
  slots: SubscriptionSlots;
  tracing?: boolean;
}

/** A WebSocket close reason's limit (RFC 6455: a control frame's 125 bytes, less the code's two). */
const MAX_CLOSE_REASON_BYTES = 123;

export function serveWebSocket(server: Server, host: GatewayHost, executor: FederatedExecutor, { maxBodyBytes, slots, tracing = false }: WebSocketSettings): { close(): Promise<void> } {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: maxBodyBytes });
  const connections = new WeakMap<object, Connection>();
  const end = (connection: Connection | undefined, id: string) => {
    const operation = connection?.operations.get(id);
    operation?.abort.abort();
    operation?.slot?.release();
    connection?.operations.delete(id);
  };
  /** A refusal of one operation, as a graphql-ws `error` message. */
  const refusal = (error: unknown): GraphQLError[] => [clientError(host, error)];
  const cleanup = useServer(
    {
      onConnect: async (ctx) => {
        if (!host.isReady()) return false;
        // The token wherever clients put it: `{ headers: { authorization } }`, or Apollo Router's `{ authorization }`.
        const header = connectionParamsHeaders(ctx.connectionParams);
        const { socket } = ctx.extra;
        let context: GatewayContext;
        try {
          context = await host.buildContext(header, { clientAddress: ctx.extra.request.socket.remoteAddress });
        } catch (error) {
          // Refused (a bad token, the rate limit): 4403 Forbidden, its reason naming the refusal's code.
          socket.close(CloseCode.Forbidden, closeReason(error));
          return false;
        }
        // The W3C fields the gateway's propagators read (trace context and baggage).
        if (tracing) context.traceParent = extractTrace(Object.fromEntries(['traceparent', 'tracestate', 'baggage'].map((name) => [name, header(name)])));
        // A connection lives no longer than its token: at expiry it closes as a refused one does.
        const cancelExpiry = whenTokenExpires(context, () => socket.close(TOKEN_EXPIRED_CLOSE_CODE, limitReason(`UNAUTHENTICATED: ${TOKEN_EXPIRED_MESSAGE}`)));
        socket.once('close', cancelExpiry);
        connections.set(ctx, { context, operations: new Map(), slots: slots.connection(), caller: clientKey(context.user?.id, context.clientAddress), cancelExpiry });
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const connection = connections.get(ctx);
        if (!connection) return [new GraphQLError('connection not initialised')];
        try {
          // Each operation is a request to the rate limit, not only the connection that carries it.
          await host.admitOperation(connection.context);
        } catch (error) {
          return refusal(error);
        }
        let resolved: ResolvedDocument;
        try {
          // graphql-ws requires a query string: a persisted query sent by its hash alone has an empty one.
          resolved = await host.resolveDocument(payload);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError(errorMessage(error))];
        }
        const request = toRequest({ ...payload, query: resolved.query }, resolved.register);
        const prepared = executor.prepare(request);
        if ('errors' in prepared) return prepared.errors;
        let slot: Slot | undefined;
        try {
          if (prepared.operation.operation === 'subscription') slot = connection.slots.take(connection.caller);
        } catch (error) {
          return refusal(error);
        }
        const abort = new AbortController();
        connection.operations.set(id, { abort, slot });
        // An operation's own trace context (its extensions.headers, as the kit reads them) wins over the connection's.
        const context = tracing ? withOperationTrace(connection.context, payload.extensions) : connection.context;
        const value: OperationValue = { context, request, prepared, abort };
        return { schema: executor.schema!, document: prepared.document, variableValues: payload.variables, operationName: payload.operationName, contextValue: value } as ExecutionArgs;
      },
      // Called however an operation ends: its last result, the client's `complete`, an error, the socket closing.
      onComplete: (ctx, id) => end(connections.get(ctx), id),
      onClose: (ctx) => {
        const connection = connections.get(ctx);
        connection?.cancelExpiry();
        for (const id of [...(connection?.operations.keys() ?? [])]) end(connection, id);
      },
      execute: async (args: ExecutionArgs): Promise<ExecutionResult> => {
        const { context, request, prepared, abort } = args.contextValue as OperationValue;
        for await (const result of executor.execute(request, context, abort.signal, prepared)) return result;
        return { data: null };
      },
      subscribe: (args: ExecutionArgs) => {
        const { context, request, prepared, abort } = args.contextValue as OperationValue;
        return executor.execute(request, context, abort.signal, prepared);
      },
    },
    wss,
  );
  quietClientProtocolErrors(wss);
  return {
    close: async () => {
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function toRequest(
  payload: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null },
  register: ResolvedDocument['register'],
): OperationRequest {
  return { query: payload.query, variables: payload.variables ?? undefined, operationName: payload.operationName ?? undefined, register };
}

/** `<code>: <message>` of a refused connection, within a close frame's limit. */
function closeReason(error: unknown): string {
  const code = error instanceof GraphQLError ? error.extensions.code : undefined;
  return limitReason(typeof code === 'string' ? `${code}: ${errorMessage(error)}` : 'Forbidden');
}

function limitReason(reason: string): string {
  const bytes = Buffer.from(reason);
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return reason;
  // Cut on a character boundary: a partial UTF-8 sequence would make the frame invalid.
  return new TextDecoder().decode(bytes.subarray(0, MAX_CLOSE_REASON_BYTES)).replace(/\uFFFD$/, '');
}
