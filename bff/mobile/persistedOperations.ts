/**
 * Persisted operations: the only GraphQL the mobile BFF runs. A JSON manifest maps an operation id
 * to its document; it is read and parsed once at start, and a bad file stops the start with a
 * message naming the file and the operation.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'graphql';
import { ConfigError } from '@trellis/kit';

export const DEFAULT_MANIFEST = path.join(__dirname, 'persisted-operations.json');

export type PersistedOperations = ReadonlyMap<string, string>;

export function loadPersistedOperations(file: string = DEFAULT_MANIFEST): PersistedOperations {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`MOBILE_PERSISTED_OPERATIONS=${file}: cannot read the manifest as JSON: ${(error as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`MOBILE_PERSISTED_OPERATIONS=${file}: the manifest must be a JSON object of operation id -> GraphQL document`);
  }
  const operations = new Map<string, string>();
  for (const [id, document] of Object.entries(raw as Record<string, unknown>)) {
    if (!/^[\w.-]{1,100}$/.test(id)) throw new ConfigError(`MOBILE_PERSISTED_OPERATIONS=${file}: operation id "${id}" must be letters, digits, _ . -`);
    if (typeof document !== 'string') throw new ConfigError(`MOBILE_PERSISTED_OPERATIONS=${file}: operation "${id}" must be a GraphQL document string`);
    try {
      parse(document);
    } catch (error) {
      throw new ConfigError(`MOBILE_PERSISTED_OPERATIONS=${file}: operation "${id}" is not valid GraphQL: ${(error as Error).message}`);
    }
    operations.set(id, document);
  }
  if (operations.size === 0) throw new ConfigError(`MOBILE_PERSISTED_OPERATIONS=${file}: the manifest has no operations`);
  return operations;
}
