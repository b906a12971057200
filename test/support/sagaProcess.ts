/**
 * One role of the placeOrder saga as its own process, for crash and chaos tests: the orchestrator,
 * or one participant (catalog, payments, orders) on its real handlers. It prints `<role> ready`
 * once it serves, and runs until killed. Environment:
 * - SAGA_ROLE: orchestrator | catalog | payments | orders
 * - REDIS_URL, KAFKA_BROKERS (and KAFKA_SSL… on a secured cluster), SAGA_NAMESPACE: the backends and this world's key/topic prefix
 * - KAFKA_CLIENT (optional): the Kafka client, as the platform's (kafkajs by default)
 * - SAGA_TIMINGS (orchestrator): the placeOrder timings as JSON; CRASH_TIMINGS by default
 * - SAGA_COUNT (orchestrator, optional): also starts the sagas `crash-0 … crash-<n-1>` not started yet
 * - SAGA_HANDLER_DELAY_MS (participants): up to this much random work before each handler, so kills land mid-command
 * - SAGA_PROVIDER_LATENCY_MS (payments): up to this much before the payment provider's answer comes back
 * - SAGA_TRACEPARENT (orchestrator, optional): the W3C traceparent the started sagas carry, as a placeOrder request's would
 * - OTEL_* (optional): tracing as every Trellis process does it (service `saga-<role>`), Kafka spans included
 */
import { RedisStateStore, type StateStore } from '@trellis/kit/internal/state';
import { createKafkaEventBus, tracedEventBus, type EventBus } from '@trellis/kit/internal/events';
import { startTelemetry, telemetrySettings } from '@trellis/kit/internal/telemetry';
import { createLogger, type Logger } from '@trellis/kit';
import { handleSagaCommands, SagaOrchestrator, sagaKey, type SagaHandler } from '@trellis/kit/saga';
import { Inventory, stockSlotOf } from '../../subgraphs/catalog/inventory';
import { PaymentLedger, paymentSlotOf } from '../../subgraphs/payments/ledger';
import { EmbeddedPaymentProvider, type PaymentProvider } from '../../subgraphs/payments/provider';
import { OrderBook, orderSlotOf } from '../../subgraphs/orders/orderBook';
import { placeOrderSaga, type PlaceOrderInput, type PlaceOrderTimings } from '../../subgraphs/sagas/placeOrderSaga';
import { realBackends } from './backends';

export type SagaRole = 'orchestrator' | 'catalog' | 'payments' | 'orders';
export const SAGA_ROLES: readonly SagaRole[] = ['orchestrator', 'catalog', 'payments', 'orders'];

export const CRASH_TIMINGS: PlaceOrderTimings = { stepTimeoutMs: 4000, retry: { maxAttempts: 3, backoffMs: 200, maxBackoffMs: 1000 } };

/** Saga `i` of the crash test: one p2 each (12 in stock, so some run out), every fifth card declined. */
export function crashSagaInput(i: number): PlaceOrderInput {
  return {
    orderId: `o-crash-${i}`,
    userId: 'u1',
    items: [{ productId: 'p2', quantity: 1, unitPrice: 54 }],
    total: 54,
    paymentMethod: i % 5 === 0 ? 'card-declined' : 'card-ok',
  };
}

const pause = (maxMs: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * maxMs));

function delayed(handlers: Record<string, SagaHandler>, maxMs: number): Record<string, SagaHandler> {
  if (maxMs <= 0) return handlers;
  return Object.fromEntries(
    Object.entries(handlers).map(([name, handler]) => [name, (async (payload: never, context) => (await pause(maxMs), handler(payload, context))) as SagaHandler]),
  );
}

/** A provider whose answers take a while to come back: the capture or refund has happened, the caller does not know yet. */
function latent(provider: PaymentProvider, maxMs: number): PaymentProvider {
  if (maxMs <= 0) return provider;
  return {
    capture: async (reference, amount, idempotencyKey) => {
      const answer = await provider.capture(reference, amount, idempotencyKey);
      await pause(maxMs);
      return answer;
    },
    refund: async (reference) => {
      const answer = await provider.refund(reference);
      await pause(maxMs);
      return answer;
    },
  };
}

async function runOrchestrator(state: StateStore, events: EventBus, logger: Logger): Promise<void> {
  const timings = process.env.SAGA_TIMINGS ? (JSON.parse(process.env.SAGA_TIMINGS) as PlaceOrderTimings) : CRASH_TIMINGS;
  const definition = placeOrderSaga(timings);
  const orchestrator = new SagaOrchestrator({ state, events, logger, definitions: [definition] });
  await orchestrator.start();
  process.stdout.write('orchestrator ready\n');
  const count = Number(process.env.SAGA_COUNT ?? 0);
  for (let i = 0; i < count; i++) {
    const id = `crash-${i}`;
    if (await state.getVersioned(sagaKey(id))) continue;
    await orchestrator.startSaga(definition.name, crashSagaInput(i), { id, traceparent: process.env.SAGA_TRACEPARENT });
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  if (count > 0) process.stdout.write('all sagas started\n');
}

async function runParticipant(role: Exclude<SagaRole, 'orchestrator'>, state: StateStore, events: EventBus, logger: Logger): Promise<void> {
  const handlerDelayMs = Number(process.env.SAGA_HANDLER_DELAY_MS ?? 0);
  const providerLatencyMs = Number(process.env.SAGA_PROVIDER_LATENCY_MS ?? 0);
  const owners = {
    catalog: () => new Inventory(state),
    payments: () => new PaymentLedger(state, undefined, latent(new EmbeddedPaymentProvider(state), providerLatencyMs)),
    orders: () => new OrderBook(state),
  };
  const owner = owners[role]();
  const slotOf = { catalog: stockSlotOf, payments: paymentSlotOf, orders: orderSlotOf }[role];
  await owner.seed();
  await handleSagaCommands(role, delayed(owner.sagaHandlers(), handlerDelayMs), { events, state, logger, slotOf });
  process.stdout.write(`${role} ready\n`);
}

async function main(): Promise<void> {
  const role = process.env.SAGA_ROLE as SagaRole;
  if (!SAGA_ROLES.includes(role)) throw new Error(`SAGA_ROLE must be one of ${SAGA_ROLES.join(', ')}, not ${role}`);
  const namespace = process.env.SAGA_NAMESPACE as string;
  const logger = createLogger({ service: `saga-${role}`, level: process.env.LOG_LEVEL ?? 'warn' });
  startTelemetry(telemetrySettings(process.env), { serviceName: `saga-${role}` });
  const state = new RedisStateStore({ url: process.env.REDIS_URL as string, logger, keyPrefix: `${namespace}:` });
  const kafka = createKafkaEventBus({
    // KAFKA_BROKERS, KAFKA_CLIENT and, on the shared cluster, its TLS/SASL/topic variables (processRunner.ts).
    ...realBackends.kafka,
    logger,
    clientId: `saga-${role}`,
    namespace: `${namespace}.`,
    // The broker's minimum: a killed process's partitions move on quickly.
    sessionTimeoutMs: 6000,
  });
  const events = tracedEventBus(kafka, 'kafka');
  if (role === 'orchestrator') await runOrchestrator(state, events, logger);
  else await runParticipant(role, state, events, logger);
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`saga ${process.env.SAGA_ROLE}: ${(error as Error).stack}\n`);
    process.exit(1);
  });
}
