/** Retry with backoff, honouring each error's `retriable` flag. The one retry mechanism of the kit. */
export { Backoff, backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
export { isRetriable, retry, sleep, type RetryOptions } from './retry';
