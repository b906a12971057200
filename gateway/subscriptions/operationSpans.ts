/**
 * The spans of an operation served over graphql-ws or SSE: the operation's server span (continuing
 * the caller's trace), the client span of its upstream subscription to the owning subgraph (whose
 * context the subgraph continues), and a span per event. An event that carries a trace of its own
 * (a saga status change, in `extensions.traceparent` from the kit) is resolved and delivered in
 * that trace, linked to the operation's span; any other event is a child of the upstream span.
 */
import type { ExecutionResult } from 'graphql';
import { trace } from '@opentelemetry/api';
import { extractTrace, SpanKind, type Span } from '@trellis/kit';
import { graphqlOutcome, GRAPHQL_ATTRIBUTES, recordOutcome, startSpan, type Context, type GraphQLOutcome } from '@trellis/kit/internal';
import type { GatewayContext } from '../context';
import type { OperationRequest } from './federatedExecutor';
import type { PreparedOperation } from './preparedDocuments';

export const SUBSCRIPTION_ATTRIBUTES = {
  subgraph: 'trellis.subgraph.name',
  eventIndex: 'trellis.subscription.event.index',
  eventTraced: 'trellis.subscription.event.traced',
} as const;

export const EVENT_SPAN = 'subscription event';

/** The operation's span and the context its children start in. */
export interface OperationTrace {
  span: Span;
  context: Context;
  /** Records one result; the span keeps the worst outcome of all its results. */
  record(result: ExecutionResult): void;
}

const RANK: Record<GraphQLOutcome, number> = { success: 0, partial: 1, error: 2 };

export function startOperationSpan(request: OperationRequest, prepared: PreparedOperation | { errors: unknown[] }, context: GatewayContext, base: Context): OperationTrace {
  const parent = context.traceParent ?? base;
  const operation = 'errors' in prepared ? undefined : prepared.operation;
  const type = operation?.operation;
  const name = request.operationName ?? operation?.name?.value;
  const span = startSpan(type ? `${type}${name ? ` ${name}` : ''}` : 'GraphQL Operation', {
    kind: SpanKind.SERVER,
    parent,
    attributes: {
      ...(type ? { [GRAPHQL_ATTRIBUTES.operationType]: type } : {}),
      ...(name ? { [GRAPHQL_ATTRIBUTES.operationName]: name } : {}),
      ...('errors' in prepared || !prepared.queryHash ? {} : { [GRAPHQL_ATTRIBUTES.documentHash]: prepared.queryHash }),
    },
  });
  let worst: GraphQLOutcome | undefined;
  return {
    span,
    context: trace.setSpan(parent, span),
    record(result) {
      const outcome = graphqlOutcome(result);
      if (worst !== undefined && RANK[outcome] <= RANK[worst]) return;
      worst = recordOutcome(span, result);
    },
  };
}

/** The client span of the upstream subscription to `subgraph`, under the operation's. */
export function startUpstreamSpan(subgraph: string, operation: OperationTrace): { span: Span; context: Context } {
  const span = startSpan(`subscribe ${subgraph}`, {
    kind: SpanKind.CLIENT,
    parent: operation.context,
    attributes: { [GRAPHQL_ATTRIBUTES.operationType]: 'subscription', [SUBSCRIPTION_ATTRIBUTES.subgraph]: subgraph },
  });
  return { span, context: trace.setSpan(operation.context, span) };
}

/** The span of one event: in the event's own trace when it carries one, else under the upstream span. */
export function startEventSpan(event: ExecutionResult, index: number, upstream: Context, operation: OperationTrace): { span: Span; context: Context } {
  const carried = event.extensions?.traceparent;
  const parent = typeof carried === 'string' ? extractTrace({ traceparent: carried }, upstream) : upstream;
  const span = startSpan(EVENT_SPAN, {
    parent,
    links: parent === upstream ? [] : [{ context: operation.span.spanContext() }],
    attributes: {
      [GRAPHQL_ATTRIBUTES.operationType]: 'subscription',
      [SUBSCRIPTION_ATTRIBUTES.eventIndex]: index,
      [SUBSCRIPTION_ATTRIBUTES.eventTraced]: parent !== upstream,
    },
  });
  return { span, context: trace.setSpan(parent, span) };
}
