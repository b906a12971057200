import { buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import { createHash } from 'node:crypto';
import { PreparedDocuments } from '../../../../gateway/subscriptions/preparedDocuments';

const schema = buildSchema('type Query { a: Int b: Int }');
const next = buildSchema('type Query { a: Int b: Int c: Int }');
const prepared = (query: string) => {
  const document = parse(query);
  return { document, operation: document.definitions[0] as OperationDefinitionNode };
};

describe('PreparedDocuments', () => {
  it('keeps a valid document by text and operation name, with the sha256 of its text as Apollo keys plans', () => {
    const cache = new PreparedDocuments();
    expect(cache.get(schema, '{ a }', undefined)).toBeUndefined();
    const kept = cache.set(schema, '{ a }', undefined, prepared('{ a }'));
    expect(kept.queryHash).toBe(createHash('sha256').update('{ a }').digest('hex'));
    expect(cache.get(schema, '{ a }', undefined)).toBe(kept);
    expect(cache.get(schema, '{ a }', 'A')).toBeUndefined();
    expect(cache.get(schema, '{ b }', undefined)).toBeUndefined();
    const named = cache.set(schema, 'query A { a } query B { b }', 'B', prepared('query B { b }'));
    expect(cache.get(schema, 'query A { a } query B { b }', 'B')).toBe(named);
    expect(cache.get(schema, 'query A { a } query B { b }', 'A')).toBeUndefined();
  });

  it('forgets every document when the supergraph changes, and keeps nothing prepared against an older one', () => {
    const cache = new PreparedDocuments();
    cache.get(schema, '{ a }', undefined);
    cache.set(schema, '{ a }', undefined, prepared('{ a }'));
    expect(cache.get(next, '{ a }', undefined)).toBeUndefined();
    expect(cache.size).toBe(0);
    // Validated against the old schema while the new one arrived: not kept.
    cache.set(schema, '{ b }', undefined, prepared('{ b }'));
    expect(cache.get(next, '{ b }', undefined)).toBeUndefined();
    cache.set(next, '{ b }', undefined, prepared('{ b }'));
    expect(cache.get(next, '{ b }', undefined)).toBeDefined();
  });

  it('holds at most `max` documents, dropping the least recently used', () => {
    const cache = new PreparedDocuments(2);
    cache.get(schema, '{ a }', undefined);
    cache.set(schema, '{ a }', undefined, prepared('{ a }'));
    cache.set(schema, '{ b }', undefined, prepared('{ b }'));
    expect(cache.get(schema, '{ a }', undefined)).toBeDefined();
    cache.set(schema, '{ a b }', undefined, prepared('{ a b }'));
    expect(cache.size).toBe(2);
    expect(cache.get(schema, '{ b }', undefined)).toBeUndefined();
    expect(cache.get(schema, '{ a }', undefined)).toBeDefined();
  });
});
