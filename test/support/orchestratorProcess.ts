/**
 * A saga orchestrator as its own process, for crash tests: it resumes what is unfinished, then
 * starts the sagas `crash-0 … crash-<SAGA_COUNT-1>` that do not exist yet, and runs until killed.
 * Environment: REDIS_URL, KAFKA_BROKERS, SAGA_NAMESPACE, SAGA_COUNT.
 */
import { RedisStateStore } from '../../shared/state';
import { KafkaEventBus } from '../../shared/events';
import { createLogger } from '../../shared/logging';
import { SagaOrchestrator, sagaKey } from '../../shared/saga';
import { placeOrderSaga, type PlaceOrderInput } from '../../subgraphs/sagas/placeOrderSaga';

export const CRASH_TIMINGS = { stepTimeoutMs: 4000, retry: { maxAttempts: 3, backoffMs: 200, maxBackoffMs: 1000 } };

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

async function main(): Promise<void> {
  const namespace = process.env.SAGA_NAMESPACE as string;
  const count = Number(process.env.SAGA_COUNT);
  const logger = createLogger({ service: 'crash-orchestrator', level: 'warn' });
  const state = new RedisStateStore({ url: process.env.REDIS_URL as string, logger, keyPrefix: `${namespace}:` });
  const events = new KafkaEventBus({
    brokers: (process.env.KAFKA_BROKERS as string).split(','),
    logger,
    clientId: 'crash-orchestrator',
    namespace: `${namespace}.`,
    // The broker's minimum: a killed orchestrator's partitions move on quickly.
    sessionTimeoutMs: 6000,
  });
  const definition = placeOrderSaga(CRASH_TIMINGS);
  const orchestrator = new SagaOrchestrator({ state, events, logger, definitions: [definition] });
  await orchestrator.start();
  process.stdout.write('orchestrator ready\n');
  for (let i = 0; i < count; i++) {
    const id = `crash-${i}`;
    if (await state.getVersioned(sagaKey(id))) continue;
    await orchestrator.startSaga(definition.name, crashSagaInput(i), { id });
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  process.stdout.write('all sagas started\n');
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`crash orchestrator: ${(error as Error).stack}\n`);
    process.exit(1);
  });
}
