/**
 * The checks' `finish` (auth's nulls and FORBIDDEN errors, the planner fix's renames) and the
 * gateway's error formatting, applied to every part as to a whole result: a deferred part is
 * finished as the result it would be alone (its data placed at its path), and an error a finish adds
 * goes out once, in the first part that carries it.
 */
import type { ExecutionResult } from 'graphql';
import type { CheckedOperation } from '../extension';
import type { Delivered, IncrementalPayload } from './payloads';
import { valueAt, type ResponsePath } from './shaping';

export class PartFinishing {
  private readonly sent = new Set<string>();

  constructor(
    private readonly finishResult: CheckedOperation['finish'],
    private readonly format: (result: ExecutionResult) => ExecutionResult,
  ) {}

  finish(payload: IncrementalPayload): IncrementalPayload {
    if (payload.kind === 'initial')
      return { ...payload, result: this.once(this.format(this.finishResult(payload.result)), payload.result) };
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
