/** placeOrder's default timings, as the subgraph-authors guide states them: 5 s attempts, 30 s to do each step, the kit's day to undo it, no attempt count. */
import { DEFAULT_STEP_DEADLINES } from '@trellis/kit/saga';
import { phaseDeadlineMs } from '@trellis/kit/internal/saga/deadlines';
import { placeOrderSaga } from '../../../../subgraphs/sagas/placeOrderSaga';

describe('placeOrderSaga defaults', () => {
  it('gives every step 5 s attempts with backoff, 30 s for its command and a day for its compensation, and no attempt count', () => {
    const definition = placeOrderSaga();
    expect(definition.steps.map((step) => step.name)).toEqual(['reserveStock', 'chargePayment', 'createOrder']);
    for (const [index, step] of definition.steps.entries()) {
      expect(step).toMatchObject({ timeoutMs: 5000, retry: { backoffMs: 200, maxBackoffMs: 2000 } });
      expect(step.retry.maxAttempts).toBeUndefined();
      expect(phaseDeadlineMs(definition, index, 'command')).toBe(30_000);
      expect(phaseDeadlineMs(definition, index, 'compensation')).toBe(DEFAULT_STEP_DEADLINES.compensationMs);
    }
    expect(DEFAULT_STEP_DEADLINES.compensationMs).toBe(24 * 3600_000);
  });

  it('takes other timings, without deadlines of its own when they set none', () => {
    const definition = placeOrderSaga({ stepTimeoutMs: 100, retry: { maxAttempts: 2, backoffMs: 1, maxBackoffMs: 2 } });
    expect(definition.deadlines).toBeUndefined();
    expect(definition.steps[1]).toMatchObject({ timeoutMs: 100, retry: { maxAttempts: 2 } });
    expect(placeOrderSaga({ stepTimeoutMs: 100, retry: { backoffMs: 1, maxBackoffMs: 2 }, deadlines: { compensationMs: 7 } }).deadlines).toEqual({ compensationMs: 7 });
  });
});
