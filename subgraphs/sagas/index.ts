/**
 * The sagas subgraph: owns `Mutation.placeOrder`, `Query.saga`, `Subscription.sagaStatus` and the
 * operators' `Query.sagaOverview` (the gateway's console asks it), and is the orchestrator's home. Any instance serves any saga: records and changes live in the state store.
 */
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { injectTrace, NotFoundError, peerSubgraphs, tracedEvent, type SubgraphContext, type SubgraphFactory } from '@trellis/kit';
import { IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE, MAX_OVERVIEW_LIMIT, SagaLog, SagaOrchestrator, type OverviewLimits, type ParkedSaga, type SagaRecord, type StepRecord } from '@trellis/kit/saga';
import { FEDERATION_LINK } from '../federation';
import { peerCatalogLookup, validateOrder, type CatalogLookup, type OrderLine } from './orderValidation';
import { placeOrderSaga, type PlaceOrderInput, type PlaceOrderTimings } from './placeOrderSaga';
import { watchSaga } from './sagaWatch';

/** The scope a caller needs for the operators' fields (the gateway's console holds a token with it). */
export const OPERATOR_SCOPE = 'trellis:operator';

const SAGA_ID = 'trellis.saga.id';
const SAGA_STATE = 'trellis.saga.state';
const SAGA_REVISION = 'trellis.saga.revision';

export const typeDefs = /* GraphQL */ `
  ${FEDERATION_LINK}

  type Mutation {
    "Starts the placeOrder saga and answers at once; watch it with sagaStatus."
    placeOrder(input: PlaceOrderInput!): PlaceOrderResult! @authenticated
  }

  type Query {
    "Null when unknown; FORBIDDEN to anyone but the user who started it."
    saga(id: ID!): Saga
    """
    Operators only (scope ${OPERATOR_SCOPE}): the sagas in flight, the next due first, and the latest
    finished, from the saga indexes (never a key scan). Each list holds 0 to ${MAX_OVERVIEW_LIMIT}
    (BAD_USER_INPUT otherwise). Ids, definitions and steps only: no order, no user.
    """
    sagaOverview(inFlight: Int = 20, finished: Int = 20): SagaOverview! @requiresScopes(scopes: [["${OPERATOR_SCOPE}"]])
  }

  type Subscription {
    "The saga now, then every change; completes when it ends. FORBIDDEN to anyone but the user who started it."
    sagaStatus(id: ID!): Saga!
  }

  input PlaceOrderInput {
    items: [OrderItemInput!]!
    paymentMethod: String!
    """
    Makes a retry safe: the same key from the same caller gives the first call's saga for 24 h,
    never a second order. The Idempotency-Key header does the same; a key reused for a different
    order is refused with IDEMPOTENCY_KEY_REUSED.
    """
    idempotencyKey: String
  }

  input OrderItemInput {
    productId: ID!
    quantity: Int!
  }

  type PlaceOrderResult {
    sagaId: ID!
    state: SagaState!
  }

  type Saga {
    id: ID!
    state: SagaState!
    steps: [SagaStep!]!
    "The order this saga places; null until the orders subgraph has it."
    order: Order
    createdAt: String!
    updatedAt: String!
    "Why a FAILED saga failed: the steps that could not be undone. Null otherwise."
    error: String
  }

  type SagaOverview {
    inFlight: [SagaSummary!]!
    finished: [SagaSummary!]!
    "Sagas in flight in all, listed or not."
    inFlightTotal: Int!
    "Finished sagas the recent indexes keep (the latest ${MAX_OVERVIEW_LIMIT} of each shard)."
    finishedKept: Int!
    "Sagas no running orchestrator can drive, oldest first (at most ${MAX_OVERVIEW_LIMIT}): deploy an orchestrator that has their definition version."
    parked: [ParkedSaga!]!
    parkedTotal: Int!
  }

  type ParkedSaga {
    sagaId: ID!
    "unknown-version, unknown-definition or unreadable."
    reason: String!
    definition: String
    version: String
    versionLabel: String
    parkedAt: String!
    "Replies kept on the record for an orchestrator that can apply them."
    heldReplies: Int!
  }

  type SagaSummary {
    id: ID!
    definition: String!
    state: SagaState!
    steps: [SagaStep!]!
    createdAt: String!
    updatedAt: String!
  }

  type SagaStep {
    name: String!
    state: SagaStepState!
    attempts: Int!
    error: String
    "Why the step gave up; null while it has not."
    gaveUp: SagaStepGiveUp
  }

  enum SagaStepGiveUp {
    "A refusal retrying cannot fix (e.g. out of stock, card declined)."
    REFUSED
    "Its deadline passed."
    DEADLINE
    "Its command's maxAttempts ran out."
    ATTEMPTS
  }

  enum SagaState {
    PENDING
    RUNNING
    COMPENSATING
    COMPLETED
    COMPENSATED
    FAILED
  }

  enum SagaStepState {
    PENDING
    RUNNING
    SUCCEEDED
    FAILED
    TIMED_OUT
    COMPENSATING
    COMPENSATED
    COMPENSATION_FAILED
  }

  type Order @key(fields: "id", resolvable: false) {
    id: ID!
  }
`;

interface PlaceOrderRequest {
  items: OrderLine[];
  paymentMethod: string;
  idempotencyKey?: string;
}

export interface SagasSubgraphOptions {
  timings?: PlaceOrderTimings;
  /** Defaults to asking the catalog subgraph, found through discovery, as the caller. */
  catalog?: CatalogLookup;
}

export function sagasSubgraph(options: SagasSubgraphOptions = {}): SubgraphFactory {
  return ({ backends, guard, logger, config, registry }) => {
    const definition = placeOrderSaga(options.timings);
    const orchestrator = new SagaOrchestrator({ state: backends.state, events: backends.events, logger, definitions: [definition], registry, dueShards: config.saga.dueShards });
    const peers = peerSubgraphs({ discovery: backends.discovery, guard, config });
    const catalog = options.catalog ?? peerCatalogLookup(peers);
    const load = (id: string) => orchestrator.get(id);
    const sagaLog = new SagaLog({ state: backends.state, dueShards: config.saga.dueShards });
    const ownerOf = (record: SagaRecord) => (record.input as Partial<PlaceOrderInput>).userId;

    return {
      name: 'sagas',
      typeDefs,
      resolvers: {
        Mutation: {
          placeOrder: async (_: unknown, { input }: { input: PlaceOrderRequest }, context: SubgraphContext) => {
            if (!context.user) {
              throw new GraphQLError('placeOrder needs a signed-in caller', { extensions: { code: 'UNAUTHENTICATED' } });
            }
            const key = input.idempotencyKey ?? context.idempotencyKey;
            if (key !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(key)) {
              throw new GraphQLError(`idempotencyKey ${IDEMPOTENCY_KEY_RULE}`, { extensions: { code: 'BAD_USER_INPUT' } });
            }
            const idempotency = key === undefined ? undefined : { scope: context.user.id, key, request: { items: input.items, paymentMethod: input.paymentMethod } };
            // A retry of a start answers with its saga before anything is checked again: the first
            // order may have taken the last unit, and the retry must not be told there is none.
            const started = idempotency && (await orchestrator.startedBy(definition.name, idempotency));
            if (started) return { sagaId: started.id, state: started.state };
            // The catalog lookup (as this caller) and every command of the saga continue this request's trace.
            const headers: Record<string, string> = injectTrace({ ...context.forward });
            const { lines, total } = await validateOrder(input.items, input.paymentMethod, catalog, headers);
            const sagaId = randomUUID();
            const sagaInput: PlaceOrderInput = { orderId: `o-${sagaId}`, userId: context.user.id, items: lines, total, paymentMethod: input.paymentMethod };
            const record = await orchestrator.startSaga(definition.name, sagaInput, {
              id: sagaId,
              correlationId: context.correlationId,
              traceparent: headers.traceparent ?? context.traceparent,
              idempotency,
            });
            return { sagaId: record.id, state: record.state };
          },
        },
        Query: {
          saga: async (_: unknown, { id }: { id: string }, context: SubgraphContext) => {
            const record = await load(id);
            if (record) context.requireOwner(ownerOf(record), `saga ${id}`);
            return record;
          },
          // The scope is checked by the kit (@requiresScopes) before this runs.
          sagaOverview: (_: unknown, limits: OverviewLimits) => sagaLog.overview(limits),
        },
        Subscription: {
          sagaStatus: {
            // Checked before the stream opens, so a stranger gets one error and never a state; the owner never changes.
            subscribe: async (_: unknown, { id }: { id: string }, context: SubgraphContext) => {
              const record = await load(id);
              if (!record) throw new NotFoundError(`no saga with id ${id}`);
              context.requireOwner(ownerOf(record), `saga ${id}`);
              // Each status change is sent in the saga's own trace: the client's last event closes the saga's story.
              return stoppable(
                (signal) => watchSaga(backends.state, id, load, signal),
                (sagaStatus) => tracedEvent({ sagaStatus }, { traceparent: sagaStatus.traceparent, attributes: { [SAGA_ID]: sagaStatus.id, [SAGA_STATE]: sagaStatus.state, [SAGA_REVISION]: sagaStatus.revision } }),
              );
            },
          },
        },
        SagaStep: {
          gaveUp: (step: StepRecord) => step.gaveUp?.toUpperCase() ?? null,
        },
        ParkedSaga: {
          parkedAt: (parked: ParkedSaga) => new Date(parked.parkedAt).toISOString(),
        },
        Saga: {
          // Only once the orders subgraph was asked to create it; before that there is no order to show.
          order: (record: SagaRecord<PlaceOrderInput>) => {
            const step = record.steps.find((s) => s.name === 'createOrder');
            return step && step.state !== 'PENDING' && step.state !== 'FAILED' ? { __typename: 'Order', id: record.input.orderId } : null;
          },
        },
      },
      onStart: () => orchestrator.start(),
      onStop: async () => {
        await orchestrator.stop();
        await peers.close();
      },
    };
  };
}

/**
 * The source mapped, as the iterator graphql-ws ends with `return()` when the client unsubscribes.
 * A generator's `return()` waits for its pending `next()`; aborting the source's signal first ends
 * that wait, so a watch on a saga that is not changing is freed at once instead of never.
 */
function stoppable<T, R>(open: (signal: AbortSignal) => AsyncGenerator<T>, map: (value: T) => R): AsyncIterableIterator<R> {
  const controller = new AbortController();
  const source = open(controller.signal);
  const iterator: AsyncIterableIterator<R> = {
    next: async () => {
      const result = await source.next();
      return result.done ? { done: true, value: undefined } : { done: false, value: map(result.value) };
    },
    return: async () => {
      controller.abort();
      await source.return(undefined);
      return { done: true, value: undefined };
    },
    throw: async (error?: unknown) => {
      controller.abort();
      await source.throw(error);
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
