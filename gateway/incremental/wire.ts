/**
 * The two incremental-delivery wire formats, as pure functions of a payload (what a client's
 * handler reads: Apollo Client's `Defer20220824Handler` and `GraphQL17Alpha9Handler`):
 * - `deferSpec=20220824` (Apollo Router's): `{data, hasNext}` then
 *   `{incremental: [{data, path, label?, errors?}], hasNext}`;
 * - `incrementalSpec=v0.2` (graphql-js 17 alpha 9, Cosmo): `{data, pending: [{id, path, label?}], hasNext}`
 *   then `{incremental: [{id, data, errors?}], completed: [{id, errors?}], pending?, hasNext}`; a
 *   fragment that failed as a whole is completed with its errors and no data.
 */
import type { ExecutionResult, GraphQLFormattedError } from 'graphql';
import type { Delivered, IncrementalPayload, Pending } from './payloads';

/** A payload's errors as they go out (the executor's formatting); the formats differ only in where errors sit. */
type Format = (errors: Delivered['errors']) => GraphQLFormattedError[] | undefined;

export function deferSpec20220824(payload: IncrementalPayload, format: Format): Record<string, unknown> {
  if (payload.kind === 'initial') return { ...initial(payload.result, format), hasNext: payload.hasNext };
  return {
    incremental: payload.delivered.map(({ pending, data, errors }) => ({
      data,
      path: pending.path,
      ...(pending.label === undefined ? {} : { label: pending.label }),
      ...withErrors(format(errors)),
    })),
    hasNext: payload.hasNext,
  };
}

export function incrementalSpecV02(payload: IncrementalPayload, format: Format): Record<string, unknown> {
  if (payload.kind === 'initial')
    return { ...initial(payload.result, format), ...pendingOf(payload.pending), hasNext: payload.hasNext };
  const succeeded = payload.delivered.filter(({ data }) => data !== null);
  return {
    ...pendingOf(payload.pending),
    ...(succeeded.length > 0
      ? {
          incremental: succeeded.map(({ pending, data, errors }) => ({
            id: pending.id,
            data,
            ...withErrors(format(errors)),
          })),
        }
      : {}),
    completed: payload.delivered.map(({ pending, data, errors }) => ({
      id: pending.id,
      ...(data === null ? withErrors(format(errors)) : {}),
    })),
    hasNext: payload.hasNext,
  };
}

function initial(result: ExecutionResult, format: Format): Record<string, unknown> {
  return {
    ...(result.data === undefined ? {} : { data: result.data }),
    ...withErrors(format(result.errors)),
    ...(result.extensions ? { extensions: result.extensions } : {}),
  };
}

function pendingOf(pending: Pending[]): Record<string, unknown> {
  return pending.length === 0
    ? {}
    : { pending: pending.map(({ id, path, label }) => ({ id, path, ...(label === undefined ? {} : { label }) })) };
}

function withErrors(errors: GraphQLFormattedError[] | undefined): Record<string, unknown> {
  return errors && errors.length > 0 ? { errors } : {};
}
