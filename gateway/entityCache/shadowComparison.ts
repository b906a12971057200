/** Shadow mode's judgement: which fields of a cached entity differ from the fresh answer. */
import { isDeepStrictEqual } from 'node:util';

/** The response keys whose values differ between the cached and the fresh entity (a key on one side only differs). */
export function differingFields(cached: Record<string, unknown>, fresh: Record<string, unknown>): string[] {
  const names = new Set([...Object.keys(cached), ...Object.keys(fresh)]);
  return [...names].filter((name) => !isDeepStrictEqual(cached[name], fresh[name]));
}
