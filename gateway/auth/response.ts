/** Puts a null where each removed field would have been, and one FORBIDDEN error per removal. */
import { PLACEHOLDER, type Removal } from './restrict';

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
  dropPlaceholders(data);
  let result: Json | null = data;
  for (const removal of removals) {
    // A non-null field cannot hold null: the null moves up to the nearest nullable ancestor.
    let depth = removal.path.length - 1;
    while (depth >= 0 && !removal.nullable[depth]) depth--;
    if (depth < 0) result = null;
    else if (result) nullAt(result, removal.path.slice(0, depth + 1));
  }
  return { data: result, errors };
}

function nullAt(value: unknown, path: string[]): void {
  if (value === null || value === undefined || path.length === 0) return;
  const [head, ...rest] = path;
  if (head === '@') {
    if (Array.isArray(value)) for (const item of value) nullAt(item, rest);
    return;
  }
  const object = value as Json;
  if (rest.length === 0) {
    object[head] = null;
    return;
  }
  if (rest[0] === '@' && rest.length === 1) {
    object[head] = null;
    return;
  }
  nullAt(object[head], rest);
}

function dropPlaceholders(value: unknown): void {
  if (Array.isArray(value)) value.forEach(dropPlaceholders);
  else if (value && typeof value === 'object') {
    const object = value as Json;
    delete object[PLACEHOLDER];
    Object.values(object).forEach(dropPlaceholders);
  }
}
