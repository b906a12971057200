/** graphql-ws on the gateway's `/graphql`: every operation, subscriptions included, through the FederatedExecutor. */
import type { Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { GatewayHost } from '../extension';
import { errorMessage } from '../../shared/errors';
import type { GatewayContext } from '../context';
import type { FederatedExecutor, OperationRequest } from './federatedExecutor';
import type { PreparedOperation } from './preparedDocuments';
import { extractTrace } from '../../shared/telemetry';

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

interface Connection {
  context: GatewayContext;
  operations: Map<string, AbortController>;
}

export function serveWebSocket(server: Server, host: GatewayHost, executor: FederatedExecutor, maxBodyBytes: number, tracing = false): { close(): Promise<void> } {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: maxBodyBytes });
  const connections = new WeakMap<object, Connection>();
  const toRequest = (payload: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null }): OperationRequest => ({
    query: payload.query,
    variables: payload.variables ?? undefined,
    operationName: payload.operationName ?? undefined,
  });
  const cleanup = useServer(
    {
      onConnect: async (ctx) => {
        if (!host.isReady()) return false;
        const raw = (ctx.connectionParams?.headers ?? {}) as Record<string, unknown>;
        const headers = new Map(Object.entries(raw).map(([k, v]) => [k.toLowerCase(), typeof v === 'string' ? v : undefined]));
        try {
          const context = await host.buildContext((name) => headers.get(name), { clientAddress: ctx.extra.request.socket.remoteAddress });
          if (tracing) context.traceParent = extractTrace(Object.fromEntries(headers));
          connections.set(ctx, { context, operations: new Map() });
          return true;
        } catch {
          return false; // refused (e.g. a bad token): graphql-ws closes with 4403 Forbidden
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const connection = connections.get(ctx);
        let query: string;
        try {
          // graphql-ws requires a query string: a persisted query sent by its hash alone has an empty one.
          query = await host.resolveDocument(payload);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError(errorMessage(error))];
        }
        const request = toRequest({ ...payload, query });
        const prepared = executor.prepare(request);
        if ('errors' in prepared) return prepared.errors;
        if (!connection) return [new GraphQLError('connection not initialised')];
        const abort = new AbortController();
        connection.operations.set(id, abort);
        // An operation's own trace context (its extensions.headers, as the kit reads them) wins over the connection's.
        const context = tracing ? withOperationTrace(connection.context, payload.extensions) : connection.context;
        const value: OperationValue = { context, request, prepared, abort };
        return { schema: executor.schema!, document: prepared.document, variableValues: payload.variables, operationName: payload.operationName, contextValue: value } as ExecutionArgs;
      },
      onComplete: (ctx, id) => {
        const operations = connections.get(ctx)?.operations;
        operations?.get(id)?.abort();
        operations?.delete(id);
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
  return {
    close: async () => {
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
