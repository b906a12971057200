/**
 * Wire format of the dev hub: JSON frames over one WebSocket. Functions passed as arguments
 * travel as callback ids; functions and objects with methods returned by a call travel as handles.
 */

export type Frame =
  | { t: 'call'; id: number; target: string; method: string; args: unknown[] }
  | { t: 'handle'; id: number; handle: number; method: string; args: unknown[] }
  | { t: 'result'; id: number; result?: unknown; error?: WireError }
  | { t: 'cb'; id: number; cb: number; args: unknown[] }
  | { t: 'cbResult'; id: number; result?: unknown; error?: WireError };

export interface WireError {
  name: string;
  code?: string;
  message: string;
  retriable?: boolean;
}

export interface CallbackRef {
  $cb: number;
}

export interface HandleRef {
  $handle: number;
  /** Empty for a bare function; method names for an object. */
  methods: string[];
}

export function isCallbackRef(value: unknown): value is CallbackRef {
  return typeof value === 'object' && value !== null && typeof (value as CallbackRef).$cb === 'number';
}

export function isHandleRef(value: unknown): value is HandleRef {
  return typeof value === 'object' && value !== null && typeof (value as HandleRef).$handle === 'number';
}

export function toWireError(error: unknown): WireError {
  if (error instanceof Error) {
    const { code, retriable } = error as Error & { code?: unknown; retriable?: unknown };
    return {
      name: error.name,
      message: error.message,
      code: typeof code === 'string' ? code : undefined,
      retriable: typeof retriable === 'boolean' ? retriable : undefined,
    };
  }
  return { name: 'Error', message: String(error) };
}
