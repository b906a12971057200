/** Puts a null where each removed field would have been, and one FORBIDDEN error per removal. */
import { PLACEHOLDER, TYPE_KEY, type Removal } from './restrict';

type Json = Record<string, unknown>;

export interface ForbiddenError {
  message: string;
  path: string[];
  extensions: { code: 'FORBIDDEN' };
}

export function applyRemovals(data: Json | null | undefined, removals: Removal[]): { data: Json | null | undefined; errors: ForbiddenError[] } {
  const errors = removals.map((removal) => ({
    message: `Unauthorized field: ${removal.path.filter((p) => p !== '@').join('.')} ${removal.reason}`,
    path: removal.path,
    extensions: { code: 'FORBIDDEN' as const },
  }));
  if (!data) return { data, errors };
  let rootNulled = false;
  for (const removal of removals) {
    // A non-null field cannot hold null: the null moves up to the nearest nullable ancestor.
    let target = removal.path.length - 1;
    while (target >= 0 && !removal.nullable[target]) target--;
    placeNull(data, removal, 0, target, () => (rootNulled = true));
  }
  dropPlaceholders(data);
  return { data: rootNulled ? null : data, errors };
}

/**
 * Walks `removal.path` from `holder` (the value holding segment `i`); at the object that would
 * have had the removed field, if it is of a type the removal applies to, nulls the position at
 * depth `target` (`nullTarget` nulls it when it is above).
 */
function placeNull(holder: unknown, removal: Removal, i: number, target: number, nullTarget: () => void): void {
  if (holder === null || typeof holder !== 'object') return;
  const segment = removal.path[i];
  const last = i === removal.path.length - 1;
  if (segment === '@') {
    if (!Array.isArray(holder)) return;
    holder.forEach((item, index) => placeNull(item, removal, i + 1, target, target === i ? () => (holder[index] = null) : nullTarget));
    return;
  }
  const object = holder as Json;
  if (last) {
    if (removal.onTypes && !removal.onTypes.includes(object[TYPE_KEY] as string)) return;
    if (target === i) object[segment] = null;
    else nullTarget();
    return;
  }
  placeNull(object[segment], removal, i + 1, target, target === i ? () => (object[segment] = null) : nullTarget);
}

function dropPlaceholders(value: unknown): void {
  if (Array.isArray(value)) value.forEach(dropPlaceholders);
  else if (value && typeof value === 'object') {
    const object = value as Json;
    delete object[PLACEHOLDER];
    delete object[TYPE_KEY];
    Object.values(object).forEach(dropPlaceholders);
  }
}
