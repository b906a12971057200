/**
 * Trusted documents: a persisted query manifest, read once at start. Accepts Apollo's format
 * (`{ "format": "apollo-persisted-query-manifest", "version": 1, "operations": [{ id, name, type, body }] }`)
 * and a plain `{ "<sha256>": "<query>" }` map.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '@trellis/kit';
import { errorMessage } from '@trellis/kit/internal';
import { sha256 } from '../sha256';

export { sha256 };

export class TrustedDocuments {
  /** Body by id (the hash clients send), plus each body's own sha256, so a sent body is recognised too. */
  private readonly bodies = new Map<string, string>();

  constructor(documents: Map<string, string>) {
    for (const [id, body] of documents) {
      this.bodies.set(id, body);
      this.bodies.set(sha256(body), body);
    }
  }

  get size(): number {
    return new Set(this.bodies.values()).size;
  }

  /** The document with this hash (an id from the manifest or the sha256 of a body in it). */
  body(hash: string): string | undefined {
    return this.bodies.get(hash);
  }

  allows(hash: string): boolean {
    return this.bodies.has(hash);
  }
}


/** Reads a manifest file; any problem is a ConfigError naming `variable` and the file. */
export function loadTrustedDocuments(path: string, variable = 'TRUSTED_DOCUMENTS'): TrustedDocuments {
  const fail = (problem: string) => new ConfigError(`Invalid configuration: ${variable}=${JSON.stringify(path)}: ${problem}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw fail(`cannot read a JSON manifest (${errorMessage(error)})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw fail('must be a JSON object');
  const record = parsed as Record<string, unknown>;
  const documents = new Map<string, string>();
  if (record.format === 'apollo-persisted-query-manifest') {
    if (record.version !== 1) throw fail(`unsupported manifest version ${JSON.stringify(record.version)} (expected 1)`);
    if (!Array.isArray(record.operations)) throw fail('"operations" must be an array');
    record.operations.forEach((operation: unknown, index) => {
      const { id, body } = (operation ?? {}) as { id?: unknown; body?: unknown };
      if (typeof id !== 'string' || typeof body !== 'string' || !id || !body) throw fail(`operations[${index}] needs a string "id" and "body"`);
      documents.set(id, body);
    });
  } else {
    for (const [hash, body] of Object.entries(record)) {
      if (typeof body !== 'string' || !body) throw fail(`the value of "${hash}" must be a query string`);
      documents.set(hash, body);
    }
  }
  if (documents.size === 0) throw fail('holds no documents');
  return new TrustedDocuments(documents);
}
