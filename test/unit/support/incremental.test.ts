/** The @defer rewrite and the strict merge of an incremental answer, in both wire formats. */
import { buildSchema, stripIgnoredCharacters } from 'graphql';
import { mergeIncremental, withDefer } from '../../support/incremental';

const compact = (query: string | undefined) => query && stripIgnoredCharacters(query);

const schema = buildSchema(`
  type Query { me: User user(id: ID!): User products: [Product!] count: Int! }
  type User { id: ID! name: String email: String orders: [Order!]! }
  type Order { id: ID! total: Float note: String }
  type Product { id: ID! name: String }
`);

describe('withDefer', () => {
  it('defers the nullable fields after the first of every selection, at the root, nested and in fragments', () => {
    expect(compact(withDefer('{ user(id: "u1") { id name orders { id total note } } products { id name } }', schema))).toBe(
      '{user(id:"u1"){id orders{id ...@defer{total note}}...@defer{name}}...@defer{products{id ...@defer{name}}}}',
    );
    expect(compact(withDefer('query Q { me { ...F } } fragment F on User { id name }', schema))).toBe('query Q{me{...F}}fragment F on User{id ...@defer{name}}');
  });

  it('never defers a non-null field: an error under it would null more of the whole answer than of an incremental one', () => {
    expect(withDefer('{ me { id orders { id } } }', schema)).toBeUndefined();
    expect(compact(withDefer('{ count me { id } }', schema))).toBe('{count ...@defer{me{id}}}');
  });

  it('leaves alone what cannot or need not be deferred', () => {
    expect(withDefer('{ me { name } }', schema)).toBeUndefined();
    expect(withDefer('mutation { a b }', schema)).toBeUndefined();
    expect(withDefer('subscription { a b }', schema)).toBeUndefined();
    expect(withDefer('{ __schema { queryType { name } types { name } } }', schema)).toBeUndefined();
    expect(compact(withDefer('{ __typename me { name email } }', schema))).toBe('{__typename ...@defer{me{name ...@defer{email}}}}');
  });
});

describe('mergeIncremental', () => {
  it('deferSpec=20220824: merges each part at its path, errors included', () => {
    const parts = [
      { data: { user: { name: 'Ada' } }, hasNext: true },
      { incremental: [{ data: { orders: [{ id: 'o1' }, { id: 'o2' }] }, path: ['user'] }], hasNext: true },
      { incremental: [{ data: { total: 1 }, path: ['user', 'orders', 0] }, { data: { total: 2 }, path: ['user', 'orders', 1], errors: [{ message: 'x', path: ['user', 'orders', 1, 'total'] }] }], hasNext: false },
    ];
    expect(mergeIncremental(parts, 'deferSpec=20220824')).toEqual({
      data: { user: { name: 'Ada', orders: [{ id: 'o1', total: 1 }, { id: 'o2', total: 2 }] } },
      errors: [{ message: 'x', path: ['user', 'orders', 1, 'total'] }],
    });
  });

  it('incrementalSpec=v0.2: pending ids, subPath, completed with errors', () => {
    const parts = [
      { data: { user: { name: 'Ada' } }, pending: [{ id: '0', path: ['user'] }], hasNext: true },
      { incremental: [{ id: '0', data: { orders: [{ id: 'o1' }] } }], completed: [{ id: '0' }], pending: [{ id: '1', path: ['user', 'orders', 0] }], hasNext: true },
      { completed: [{ id: '1', errors: [{ message: 'gone', path: ['user', 'orders', 0, 'total'] }] }], hasNext: false },
    ];
    expect(mergeIncremental(parts, 'incrementalSpec=v0.2')).toEqual({ data: { user: { name: 'Ada', orders: [{ id: 'o1' }] } }, errors: [{ message: 'gone', path: ['user', 'orders', 0, 'total'] }] });
  });

  it.each([
    ['a pending id never completed', [{ data: {}, pending: [{ id: '0', path: [] }], hasNext: false }], /never completed/],
    ['hasNext: false before the end', [{ data: {}, hasNext: false }, { completed: [], hasNext: false }], /hasNext/],
    ['no hasNext: false at the end', [{ data: {}, hasNext: true }], /hasNext/],
    ['a completed id that is not pending', [{ data: {}, hasNext: true }, { completed: [{ id: '7' }], hasNext: false }], /not pending/],
  ])('v0.2: fails on %s', (_case, parts, message) => {
    expect(() => mergeIncremental(parts, 'incrementalSpec=v0.2')).toThrow(message);
  });

  it('deferSpec=20220824: fails on data at a path the result does not have', () => {
    expect(() => mergeIncremental([{ data: { user: null }, hasNext: true }, { incremental: [{ data: { a: 1 }, path: ['user'] }], hasNext: false }], 'deferSpec=20220824')).toThrow(/no parent/);
  });
});
