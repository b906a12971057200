import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTrustedDocuments, sha256 } from '../../../../gateway/persisted';

const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-manifest-'));
const file = (name: string, content: string) => {
  const at = path.join(dir, name);
  writeFileSync(at, content);
  return at;
};

describe('loadTrustedDocuments', () => {
  const body = '{ products { id } }';

  it('reads an Apollo persisted query manifest, by id and by body hash', () => {
    const trusted = loadTrustedDocuments(
      file('apollo.json', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: 'custom-id', name: 'P', type: 'query', body }] })),
    );
    expect(trusted.body('custom-id')).toBe(body);
    expect(trusted.allows(sha256(body))).toBe(true);
    expect(trusted.allows(sha256('{ users { id } }'))).toBe(false);
    expect(trusted.size).toBe(1);
  });

  it('reads a plain hash-to-query map', () => {
    const trusted = loadTrustedDocuments(file('plain.json', JSON.stringify({ [sha256(body)]: body })));
    expect(trusted.body(sha256(body))).toBe(body);
  });

  it.each([
    ['not json', '{', /cannot read a JSON manifest/],
    ['an array', '[]', /must be a JSON object/],
    ['null', 'null', /must be a JSON object/],
    ['a number', '3', /must be a JSON object/],
    ['an Apollo manifest without operations', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1 }), /"operations" must be an array/],
    ['a wrong version', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 2, operations: [] }), /unsupported manifest version 2/],
    ['an operation without a body', JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: 'x' }] }), /operations\[0\] needs/],
    ['a non-string query', JSON.stringify({ abc: 1 }), /"abc" must be a query string/],
    ['no documents', '{}', /holds no documents/],
  ])('refuses %s, naming the variable', (_name, content, problem) => {
    const at = file('bad.json', content);
    expect(() => loadTrustedDocuments(at)).toThrow(problem);
    expect(() => loadTrustedDocuments(at)).toThrow(/^Invalid configuration: TRUSTED_DOCUMENTS=/);
  });
});
