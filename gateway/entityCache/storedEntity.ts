/** One cached answer for one entity, as both tiers keep it: the entity's JSON and when it stops being served. */

export interface StoredEntity {
  /** The entity as the subgraph answered it (JSON); parsed per use, since the gateway mutates what it is given. */
  json: string;
  /** Epoch ms after which it is stale. */
  expiresAt: number;
  /** Epoch ms it was stored (a shortened TTL judges by it). */
  storedAt: number;
  /** Stored under one caller's identity (`scope: PRIVATE`). */
  isPrivate: boolean;
}

/** `expiresAt|storedAt|private|json`: one string per Redis hash field, read without parsing the entity. */
export function encodeStored(entry: StoredEntity): string {
  return `${entry.expiresAt}|${entry.storedAt}|${entry.isPrivate ? 1 : 0}|${entry.json}`;
}

export function decodeStored(value: string): StoredEntity | undefined {
  const match = /^(\d+)\|(\d+)\|([01])\|/.exec(value);
  if (!match) return undefined;
  return { expiresAt: Number(match[1]), storedAt: Number(match[2]), isPrivate: match[3] === '1', json: value.slice(match[0].length) };
}
