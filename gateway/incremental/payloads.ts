/** What a streamed operation delivers, independent of the wire format (see wire.ts for both). */
import type { ExecutionResult, GraphQLError } from 'graphql';
import type { ResponsePath } from './shaping';

/** A deferred fragment at one concrete path, announced before it is delivered. */
export interface Pending {
  id: string;
  path: ResponsePath;
  label?: string;
}

/** A pending fragment's data; `data: null` when the fragment failed as a whole (its errors say why). */
export interface Delivered {
  pending: Pending;
  data: Record<string, unknown> | null;
  errors?: readonly GraphQLError[];
}

export type IncrementalPayload =
  | { kind: 'initial'; result: ExecutionResult; pending: Pending[]; hasNext: boolean }
  | { kind: 'subsequent'; delivered: Delivered[]; pending: Pending[]; hasNext: boolean };
