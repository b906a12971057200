/**
 * The placeOrder saga's world on real Redis and Kafka, in one process: the three participants
 * (catalog, payments, orders) and any number of orchestrators, each startable and stoppable on
 * its own, in a private namespace so runs sharing the servers never see each other.
 */
import { RedisStateStore, type StateStore } from '@trellis/kit/internal/state';
import { KafkaEventBus } from '@trellis/kit/internal/events';
import type { EventBus, Subscription } from '@trellis/kit/internal/events';
import { createLogger } from '@trellis/kit';
import { handleSagaCommands, sagaKey, SagaOrchestrator, TERMINAL_STATES, type SagaHandler, type SagaOrchestratorOptions, type SagaRecord } from '@trellis/kit/saga';
import { Inventory, type Stock } from '../../subgraphs/catalog/inventory';
import { PaymentLedger, type Payment } from '../../subgraphs/payments/ledger';
import { OrderBook, type Order } from '../../subgraphs/orders/orderBook';
import { placeOrderSaga, type PlaceOrderInput, type PlaceOrderTimings } from '../../subgraphs/sagas/placeOrderSaga';
import { eventually } from './graphql';
import { kafkaOptionsFor, realBackends, uniquePrefix } from './backends';

export type Participant = 'catalog' | 'payments' | 'orders';

export const FAST_TIMINGS: PlaceOrderTimings = { stepTimeoutMs: 1500, retry: { maxAttempts: 2, backoffMs: 100, maxBackoffMs: 400 } };

export interface SagaWorld {
  /** Prefix of this world's Redis keys (`<namespace>:`) and Kafka topics (`<namespace>.`). */
  namespace: string;
  state: StateStore;
  events: EventBus;
  inventory: Inventory;
  ledger: PaymentLedger;
  orders: OrderBook;
  /** Starts a participant; `handlers` replaces some of its handlers (to drop or slow commands). */
  startParticipant(name: Participant, handlers?: Record<string, SagaHandler>): Promise<void>;
  stopParticipant(name: Participant): Promise<void>;
  /** Starts an orchestrator of placeOrder at `timings`; `options` replace its definitions (other versions), logger, registry and the like. */
  startOrchestrator(options?: Partial<Omit<SagaOrchestratorOptions, 'state' | 'events'>>): Promise<SagaOrchestrator>;
  stopOrchestrator(orchestrator: SagaOrchestrator): Promise<void>;
  orchestrators(): SagaOrchestrator[];
  saga(id: string): Promise<SagaRecord<PlaceOrderInput> | null>;
  /** Starts a placeOrder saga on the first running orchestrator. */
  placeOrder(input: Partial<PlaceOrderInput> & Pick<PlaceOrderInput, 'items'>): Promise<SagaRecord<PlaceOrderInput>>;
  /** The saga once it is COMPLETED, COMPENSATED or FAILED. */
  settled(id: string, timeoutMs?: number): Promise<SagaRecord<PlaceOrderInput>>;
  stock(productId: string): Promise<Stock>;
  payment(orderId: string): Promise<Payment | undefined>;
  order(orderId: string): Promise<Order | undefined>;
  close(): Promise<void>;
}

/** Where the world's state and events live: the shared test servers unless a test brings private ones. */
export interface WorldBackends {
  redisUrl: string;
  kafkaBrokers: string[];
}

export async function startSagaWorld(timings: PlaceOrderTimings = FAST_TIMINGS, backends: WorldBackends = realBackends): Promise<SagaWorld> {
  const namespace = uniquePrefix('saga');
  const logger = createLogger({ service: 'saga-world', level: (process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent' });
  const state = new RedisStateStore({ url: backends.redisUrl, logger, keyPrefix: `${namespace}:` });
  const events = new KafkaEventBus({ ...kafkaOptionsFor(backends.kafkaBrokers), logger, clientId: 'saga-world', namespace: `${namespace}.` });
  const inventory = new Inventory(state);
  const ledger = new PaymentLedger(state);
  const orders = new OrderBook(state);
  await Promise.all([inventory.seed(), ledger.seed(), orders.seed()]);

  const definition = placeOrderSaga(timings);
  const handlers: Record<Participant, () => Record<string, SagaHandler>> = {
    catalog: () => inventory.sagaHandlers(),
    payments: () => ledger.sagaHandlers(),
    orders: () => orders.sagaHandlers(),
  };
  const participants = new Map<Participant, Subscription>();
  const orchestrators: SagaOrchestrator[] = [];
  let sequence = 0;

  const readSaga = async (id: string) => {
    const stored = await state.getVersioned(sagaKey(id));
    return stored ? (JSON.parse(stored.value) as SagaRecord<PlaceOrderInput>) : null;
  };

  const world: SagaWorld = {
    namespace,
    state,
    events,
    inventory,
    ledger,
    orders,
    async startParticipant(name, overrides = {}) {
      participants.set(name, await handleSagaCommands(name, { ...handlers[name](), ...overrides }, { events, state, logger }));
    },
    async stopParticipant(name) {
      await participants.get(name)?.stop();
      participants.delete(name);
    },
    async startOrchestrator(options = {}) {
      const orchestrator = new SagaOrchestrator({ state, events, logger, definitions: [definition], ...options });
      await orchestrator.start();
      orchestrators.push(orchestrator);
      return orchestrator;
    },
    async stopOrchestrator(orchestrator) {
      orchestrators.splice(orchestrators.indexOf(orchestrator), 1);
      await orchestrator.stop();
    },
    orchestrators: () => [...orchestrators],
    saga: readSaga,
    async placeOrder(input) {
      const orchestrator = orchestrators[0];
      if (!orchestrator) throw new Error('start an orchestrator first');
      const id = `${namespace}-${++sequence}`;
      const total = input.total ?? input.items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);
      const full: PlaceOrderInput = { orderId: `o-${id}`, userId: 'u1', paymentMethod: 'card-ok', total, ...input };
      return orchestrator.startSaga(definition.name, full, { id });
    },
    async settled(id, timeoutMs = 60_000) {
      let record: SagaRecord<PlaceOrderInput> | null = null;
      await eventually(async () => {
        record = await readSaga(id);
        expect(record && TERMINAL_STATES.has(record.state) ? 'terminal' : record?.state).toBe('terminal');
      }, timeoutMs);
      return record as unknown as SagaRecord<PlaceOrderInput>;
    },
    stock: (productId) => inventory.stock(productId),
    payment: (orderId) => ledger.forOrder(orderId),
    order: (orderId) => orders.find(orderId),
    async close() {
      await Promise.all([...participants.values()].map((subscription) => subscription.stop()));
      await Promise.all(orchestrators.map((orchestrator) => orchestrator.stop()));
      await events.close();
      await state.close();
    },
  };
  return world;
}
