export { createBreaker, breakerState, DEFAULT_BREAKER_SETTINGS, type BreakerSettings, type BreakerOptions, type BreakerState } from './breaker';
export { createGuard, DependencyUnavailableError, type Guard, type GuardOptions } from './guard';
