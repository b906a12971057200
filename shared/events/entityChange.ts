/**
 * An entity change: what a subgraph announces after a write (stock reserved, a price set, an
 * order created), so every gateway's entity cache drops what it holds for that entity. The one
 * shape both sides agree on: the kit's announcer publishes it, the gateway's change feed reads it.
 *
 * The key is the entity's federation key as a representation carries it (`{ upc: "1" }`), without
 * `__typename`; `fields` narrows the change to those fields (absent: the whole entity changed).
 */
import { z } from 'zod';

/** The topic every change is published on, keyed by `type:key` so one entity's changes keep their order. */
export const ENTITY_CHANGES_TOPIC = 'trellis.entity-changes';

export interface EntityChange {
  /** The entity type, as the supergraph names it (`Product`). */
  type: string;
  /** The entity's key fields and values, as in a representation (`{ upc: "1" }`). */
  key: Record<string, unknown>;
  /** The fields that changed; absent: any of them may have. */
  fields?: string[];
  /** The subgraph that made the change. */
  source: string;
  /** When the change was made (epoch ms), so a reader can measure how long it took to arrive. */
  at: number;
}

const entityChangeSchema = z
  .object({
    type: z.string().regex(/^[_A-Za-z][_0-9A-Za-z]*$/, 'a GraphQL type name'),
    key: z.record(z.string(), z.unknown()).refine((key) => Object.keys(key).length > 0, 'at least one key field'),
    fields: z.array(z.string().min(1)).min(1).optional(),
    source: z.string().min(1),
    at: z.number().int().nonnegative(),
  })
  .strict();

/** A change as a message value: JSON with the key's fields sorted, so one entity has one spelling. */
export function encodeEntityChange(change: EntityChange): string {
  return JSON.stringify({ ...change, key: sortedKey(change.key) });
}

/** A message value as a change; throws a clear error naming what is wrong (the caller dead-letters it). */
export function decodeEntityChange(value: string): EntityChange {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error('an entity change must be JSON');
  }
  const result = entityChangeSchema.safeParse(parsed);
  if (!result.success) throw new Error(`not an entity change: ${result.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')}`);
  return result.data as EntityChange;
}

/** The message key of a change: its type and sorted key, so changes to one entity stay in order. */
export function entityChangeKey(change: Pick<EntityChange, 'type' | 'key'>): string {
  return `${change.type}:${JSON.stringify(sortedKey(change.key))}`;
}

/** A key with its fields in name order, nested objects too (a composite key's spelling is stable). */
export function sortedKey(key: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(key)
      .sort()
      .map((name) => {
        const value = key[name];
        return [name, value !== null && typeof value === 'object' && !Array.isArray(value) ? sortedKey(value as Record<string, unknown>) : value];
      }),
  );
}
