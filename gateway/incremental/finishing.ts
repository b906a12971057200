/**
 * The checks' `finish` (auth's nulls and FORBIDDEN errors, the planner fix's renames) and the
 * gateway's error formatting, applied to every part as to a whole result: a deferred part is
 * finished as the result it would be alone (its data placed at its path), and an error a finish adds
 * goes out once, in the first part that carries it. The primary part keeps only what a finish adds
 * inside its own selection (`primary`): a field removed inside a deferred fragment, its null and its
 * FORBIDDEN, come with that fragment.
 */
import type { ExecutionResult } from 'graphql';
import type { CheckedOperation } from '../extension';
import type { Delivered, IncrementalPayload } from './payloads';
import { valueAt, type ResponsePath } from './shaping';
import { pathKey } from './primarySelection';

type Json = Record<string, unknown>;

export class PartFinishing {
  private readonly sent = new Set<string>();

  constructor(
    private readonly finishResult: CheckedOperation['finish'],
    private readonly format: (result: ExecutionResult) => ExecutionResult,
    /** The paths the primary part answers (primarySelection.ts). */
    private readonly primary?: ReadonlySet<string>,
  ) {}

  finish(payload: IncrementalPayload): IncrementalPayload {
    if (payload.kind === 'initial')
      return {
        ...payload,
        result: this.once(this.format(this.finishPrimary(payload.result, payload.hasNext)), payload.result),
      };
    return { ...payload, delivered: payload.delivered.map((delivered) => this.finishDelivered(delivered)) };
  }

  private finishDelivered(delivered: Delivered): Delivered {
    const { pending, data, errors } = delivered;
    const alone: ExecutionResult = {
      data: data === null ? null : nest(pending.path, data),
      ...(errors ? { errors } : {}),
    };
    const finished = this.once(this.format(this.finishResult(alone)), alone);
    const finishedData = data === null ? null : (valueAt(finished.data, pending.path) ?? null);
    return { pending, data: finishedData, ...(finished.errors?.length ? { errors: finished.errors } : {}) };
  }

  private finishPrimary(result: ExecutionResult, hasNext: boolean): ExecutionResult {
    const primary = this.primary;
    if (!hasNext || !primary) return this.finishResult(result);
    // The finish writes into the data it is given: what was there before tells what it added.
    const before = structuredClone(result.data);
    const finished = this.finishResult(result);
    pruneAdded(finished.data, before, '', primary);
    const own = result.errors?.length ?? 0;
    const errors = finished.errors?.filter(
      (error, index) => index < own || !error.path || primary.has(pathKey(error.path)),
    );
    return { ...finished, ...(errors ? { errors } : {}) };
  }

  /** `finished` without the errors its finish added that an earlier part already sent. */
  private once(finished: ExecutionResult, before: ExecutionResult): ExecutionResult {
    const own = before.errors?.length ?? 0;
    const errors = finished.errors?.filter((error, index) => {
      if (index < own) return true;
      const key = JSON.stringify([error.message, error.path]);
      if (this.sent.has(key)) return false;
      this.sent.add(key);
      return true;
    });
    return { ...finished, ...(errors ? { errors } : {}) };
  }
}

/** `data` placed at `path` in an otherwise empty result (arrays sparse), so a whole-result finish reaches it where it lives. */
function nest(path: ResponsePath, data: Record<string, unknown>): Record<string, unknown> {
  let value: unknown = data;
  for (let i = path.length - 1; i >= 0; i--) {
    const segment = path[i]!;
    if (typeof segment === 'number') {
      const list: unknown[] = [];
      list[segment] = value;
      value = list;
    } else value = { [segment]: value };
  }
  return value as Record<string, unknown>;
}

/** Removes from `after` every key a finish added (absent from `before`) outside `keep`. */
function pruneAdded(after: unknown, before: unknown, at: string, keep: ReadonlySet<string>): void {
  if (Array.isArray(after))
    return after.forEach((item, index) =>
      pruneAdded(item, Array.isArray(before) ? before[index] : undefined, at, keep),
    );
  if (!after || typeof after !== 'object') return;
  const previous = before && typeof before === 'object' ? (before as Json) : undefined;
  for (const key of Object.keys(after)) {
    const path = at ? `${at}.${key}` : key;
    if (!(previous && key in previous) && !keep.has(path)) delete (after as Json)[key];
    else pruneAdded((after as Json)[key], previous?.[key], path, keep);
  }
}
