export { createBreaker, breakerState, DEFAULT_BREAKER_SETTINGS, type BreakerSettings, type BreakerOptions, type BreakerState } from './breaker';
export { createKeptAliveClient, type KeepAliveSettings } from './wsKeepAlive';
export { createGuard, DependencyUnavailableError, type Guard, type GuardOptions } from './guard';
