/** The stages a saga stream must show, one line per change: a stream that only ends right may still have gone wrong on the way. */
/** A saga as a stream shows it: its state and each step's. */
export interface SagaSnapshot {
  state: string;
  steps: Array<{ state: string }>;
}

/** One change of a saga as a line, `RUNNING: SUCCEEDED RUNNING PENDING`: the saga's state, then its steps' in order. */
export const sagaStage = (saga: SagaSnapshot): string => `${saga.state}: ${saga.steps.map((step) => step.state).join(' ')}`;

/**
 * Every change a placeOrder saga (reserveStock, chargePayment, createOrder) goes through, watched
 * from before its first step applies: a stream claiming every state must show exactly these.
 */
export const PLACE_ORDER_STAGES = {
  completed: ['RUNNING: RUNNING PENDING PENDING', 'RUNNING: SUCCEEDED RUNNING PENDING', 'RUNNING: SUCCEEDED SUCCEEDED RUNNING', 'COMPLETED: SUCCEEDED SUCCEEDED SUCCEEDED'],
  /** The card declined: the stock reservation undone, no order. */
  declined: ['RUNNING: RUNNING PENDING PENDING', 'RUNNING: SUCCEEDED RUNNING PENDING', 'COMPENSATING: COMPENSATING FAILED PENDING', 'COMPENSATED: COMPENSATED FAILED PENDING'],
} as const;

/**
 * Platform environment under which a watcher sees every stage: each participant waits this long
 * before it applies a step (SAGA_STEP_PAUSE_MS), so a subscription opened when placeOrder answers
 * takes its first snapshot before the first step has moved, even on a loaded machine.
 */
export const WATCHABLE_SAGAS = { SAGA_STEP_PAUSE_MS: '2500' };
