/**
 * The closed set of Trellis error codes, and the base class every Trellis error extends.
 * Each error says whether retrying the same call may succeed (`retriable`).
 */
export const ErrorCode = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  BACKEND_UNAVAILABLE: 'BACKEND_UNAVAILABLE',
  BACKEND_TIMEOUT: 'BACKEND_TIMEOUT',
  COMPOSITION_FAILED: 'COMPOSITION_FAILED',
  SUBGRAPH_UNAVAILABLE: 'SUBGRAPH_UNAVAILABLE',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
  MESSAGE_INVALID: 'MESSAGE_INVALID',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  /** One atomic state-store write over keys of several Redis Cluster hash slots: a bug in the caller's key names. */
  CROSS_SLOT: 'CROSS_SLOT',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class TrellisError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** A configuration value that cannot be used; the message names the variable. */
export class ConfigError extends TrellisError {
  constructor(message: string) {
    super(ErrorCode.CONFIG_INVALID, message);
  }
}

/** An outside system (Consul, Redis, Kafka, the dev hub) did not answer; retrying later may work. */
export class BackendUnavailableError extends TrellisError {
  constructor(backend: string, message: string, cause?: unknown) {
    super(ErrorCode.BACKEND_UNAVAILABLE, `${backend}: ${message}`, { retriable: true, cause });
  }
}

/** The caller sent something we refuse; retrying the same input never helps. */
export class BadUserInputError extends TrellisError {
  constructor(message: string) {
    super(ErrorCode.BAD_USER_INPUT, message);
  }
}

/** A message off the bus that can never be handled (unparseable, fails its schema): dead-lettered at once, never retried. */
export class PoisonMessageError extends TrellisError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.MESSAGE_INVALID, message, { cause });
  }
}

export class NotFoundError extends TrellisError {
  constructor(message: string) {
    super(ErrorCode.NOT_FOUND, message);
  }
}

/** The caller is known but may not have this (someone else's data, a missing scope): HTTP 403, never worth a retry. */
export class ForbiddenError extends TrellisError {
  constructor(message: string) {
    super(ErrorCode.FORBIDDEN, message);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
