/** A session ends at its token's expiry: on time, however far away (past setTimeout's range), and not once cancelled. */
import { tokenExpiredError, whenTokenExpires } from '../../../../gateway/subscriptions/expiry';
import type { GatewayContext } from '../../../../gateway/context';
import { createLogger } from '@trellis/kit';

const logger = createLogger({ service: 'test', level: 'silent' });
const contextUntil = (expiresAt?: number, anonymous = false): GatewayContext => ({
  correlationId: 'c',
  logger,
  forwardHeaders: {},
  user: anonymous ? null : { id: 'u1', scopes: [], expiresAt },
});

describe('whenTokenExpires', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('calls back at the expiry, not a millisecond before', () => {
    const expired = jest.fn();
    whenTokenExpires(contextUntil(1_003_000), expired);
    jest.advanceTimersByTime(2_999);
    expect(expired).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('reaches an expiry beyond setTimeout range (about 24.8 days) in steps, on time', () => {
    const expired = jest.fn();
    const thirtyDays = 30 * 24 * 3600_000;
    whenTokenExpires(contextUntil(1_000_000 + thirtyDays), expired);
    jest.advanceTimersByTime(2 ** 31 - 1);
    expect(expired).not.toHaveBeenCalled();
    jest.advanceTimersByTime(thirtyDays - 2 ** 31);
    expect(expired).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('calls back at once for an expiry already past', () => {
    const expired = jest.fn();
    whenTokenExpires(contextUntil(999_999), expired);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('never calls back once cancelled, nor for a caller with no expiry', () => {
    const expired = jest.fn();
    const cancel = whenTokenExpires(contextUntil(1_003_000), expired);
    cancel();
    whenTokenExpires(contextUntil(undefined), expired)();
    whenTokenExpires(contextUntil(undefined, true), expired)();
    jest.advanceTimersByTime(10_000_000);
    expect(expired).not.toHaveBeenCalled();
  });

  it('keeps no process alive for a far expiry', () => {
    const timer = jest.spyOn(global, 'setTimeout');
    whenTokenExpires(contextUntil(1_500_000), () => undefined);
    expect((timer.mock.results[0].value as NodeJS.Timeout).hasRef()).toBe(false);
    timer.mockRestore();
  });
});

describe('tokenExpiredError', () => {
  it('says so with the code HTTP answers an expired token with', () => {
    expect(tokenExpiredError().toJSON()).toEqual({ message: 'token expired (exp is in the past)', extensions: { code: 'UNAUTHENTICATED' } });
  });
});
