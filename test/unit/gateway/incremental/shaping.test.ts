/**
 * The documents that shape each part (the primary selection, a deferred part's spine from the root
 * down its path, each child's `__typename` probe), where a child applies in its parent's answer (one
 * path per list element, narrowed by type, abstract types included), and the answer without probes.
 */
import { buildSchema, parse, print, type OperationDefinitionNode } from 'graphql';
import { PartShaping } from '../../../../gateway/incremental/execution';
import { valueAt } from '../../../../gateway/incremental/shaping';
import type { DeferredPart } from '../../../../gateway/incremental/parts';

const schema = buildSchema(`
  interface Node { id: ID! }
  type Product implements Node { id: ID! name: String! reviews: [Review!]! }
  type Book implements Node { id: ID! title: String! }
  type Review { body: String! author: User! }
  type User implements Node { id: ID! name: String! }
  union Result = Product | Book
  type Query { products(first: Int, after: ID): [Product!]! search: [Result!]! node(id: ID!): Node }
`);
const document = parse(`
  query Shop($first: Int, $after: ID = "p0") {
    items: products(first: $first, after: $after) { id ...Reviews }
    search { ... on Book { title } ... on Product { ... @defer(label: "name") { name } } }
  }
  fragment Reviews on Product { ... @defer { reviews { body ... @defer { author { name } } } } }
`);
const operation = document.definitions[0] as OperationDefinitionNode;
const shaping = () => new PartShaping(schema, operation, document);
const fragment = 'fragment Reviews on Product { ... @defer { reviews { body ... @defer { author { name } } } } }';
const same = (actual: ReturnType<PartShaping['primary']>, expected: string) =>
  expect(print(actual)).toBe(print(parse(expected)));

const author: DeferredPart = { queryPath: ['items', 'reviews'], subselection: '{ author { name } }', children: [] };
const reviews: DeferredPart = {
  queryPath: ['items'],
  subselection: '{ reviews { body } }',
  children: [author],
};
const name: DeferredPart = { label: 'name', queryPath: ['search', '... on Product'], subselection: '{ name }', children: [] };

describe('PartShaping documents', () => {
  it("the primary part: the operation's header and fragments, its selection, a probe per child down the child's path", () => {
    same(
      shaping().primary('{ items: products(first: $first, after: $after) { id } search { ... on Book { title } } }', [
        reviews,
        name,
      ]),
      `query Shop($first: Int, $after: ID = "p0") {
        items: products(first: $first, after: $after) { id }
        search { ... on Book { title } }
        items: products(first: $first, after: $after) { trellis__type: __typename @skip(if: true) }
        search: search { trellis__type: __typename ... on Product { trellis__type: __typename @skip(if: true) } }
      }
      ${fragment}`,
    );
  });

  it('a primary part whose fields are all deferred selects only a probe', () => {
    same(shaping().primary(undefined, []), `query Shop($first: Int, $after: ID = "p0") { trellis__type: __typename @skip(if: true) } ${fragment}`);
  });

  it("a deferred part: the spine down its path (the field's name and arguments found through a fragment spread) around its selection, and its children's probes", () => {
    same(
      shaping().deferred(reviews),
      `query Shop($first: Int, $after: ID = "p0") {
        items: products(first: $first, after: $after) { reviews { body } }
        items: products(first: $first, after: $after) { reviews: reviews { trellis__type: __typename @skip(if: true) } }
      }
      ${fragment}`,
    );
  });

  it('a path narrowed by type probes the type where it narrows; a part with no selection of its own is a probe', () => {
    same(
      shaping().deferred({ queryPath: ['search', '... on Product'], children: [] }),
      `query Shop($first: Int, $after: ID = "p0") {
        search: search { trellis__type: __typename ... on Product { trellis__type: __typename @skip(if: true) } }
      }
      ${fragment}`,
    );
  });

  it('an anonymous operation without variables keeps its kind and no fragments', () => {
    const plain = parse('{ products { id } }');
    const part = new PartShaping(schema, plain.definitions[0] as OperationDefinitionNode, plain);
    same(part.deferred({ queryPath: ['products'], subselection: '{ name }', children: [] }), 'query { products: products { name } }');
  });

  it('a path no field of the operation answers is refused, naming the segment and the path', () => {
    expect(() => shaping().deferred({ queryPath: ['items', 'missing'], children: [] })).toThrow(
      'no field answers missing on the path items.missing',
    );
  });
});

describe('PartShaping positions', () => {
  const answer = () => ({
    items: [
      { id: 'p1', trellis__type: 'Product', reviews: [{ body: 'a', trellis__type: 'Review' }] },
      null,
      { id: 'p3', trellis__type: 'Product', reviews: [] },
    ],
    search: [
      { trellis__type: 'Book', title: 'Dune' },
      { trellis__type: 'Product' },
    ],
    trellis__type: 'Query',
  });

  it('one path per list element where a child applies, nulls skipped, and the answer without probes', () => {
    const { data, positions } = shaping().positions(answer(), [reviews, author, name]);
    expect(positions).toStrictEqual([
      [
        ['items', 0],
        ['items', 2],
      ],
      [['items', 0, 'reviews', 0]],
      [['search', 1]],
    ]);
    expect(data).toStrictEqual({
      items: [{ id: 'p1', reviews: [{ body: 'a' }] }, null, { id: 'p3', reviews: [] }],
      search: [{ title: 'Dune' }, {}],
    });
  });

  it('a condition on an abstract type matches every concrete type of it, and only those', () => {
    const node: DeferredPart = { queryPath: ['search', '... on Node'], children: [] };
    const result: DeferredPart = { queryPath: ['search', '... on Result'], children: [] };
    const book: DeferredPart = { queryPath: ['search', '... on Book'], children: [] };
    const unknown: DeferredPart = { queryPath: ['search', '... on Missing'], children: [] };
    const data = {
      search: [{ trellis__type: 'Book' }, { trellis__type: 'Product' }, { trellis__type: 'Review' }, {}],
    };
    expect(shaping().positions(data, [node, result, book, unknown]).positions).toStrictEqual([
      [
        ['search', 0],
        ['search', 1],
      ],
      [
        ['search', 0],
        ['search', 1],
      ],
      [['search', 0]],
      [],
    ]);
  });

  it('no answer: no position for any child, and the answer as it was', () => {
    expect(shaping().positions(null, [reviews, name])).toStrictEqual({ data: null, positions: [[], []] });
    expect(shaping().positions(undefined, [reviews])).toStrictEqual({ data: undefined, positions: [[]] });
  });

  it('a child at the root applies at the empty path', () => {
    const root: DeferredPart = { queryPath: [], children: [] };
    expect(shaping().positions({ items: [] }, [root]).positions).toStrictEqual([[[]]]);
  });
});

describe('valueAt', () => {
  const data = { items: [{ id: 'p1', trellis__type: 'Product', name: { trellis__type: 'x' } }, null], n: 3 };

  it('the object at a concrete path, without its own probe', () => {
    expect(valueAt(data, ['items', 0])).toStrictEqual({ id: 'p1', name: { trellis__type: 'x' } });
    expect(valueAt({ trellis__type: 'Query', a: 1 }, [])).toStrictEqual({ a: 1 });
  });

  it('null where the path meets null, undefined where it is not there, and a scalar as it is', () => {
    expect(valueAt(data, ['items', 1])).toBeNull();
    expect(valueAt(data, ['items', 1, 'id'])).toBeNull();
    expect(valueAt(data, ['items', 5])).toBeUndefined();
    expect(valueAt(data, ['missing', 0, 'id'])).toBeUndefined();
    expect(valueAt(data, ['n'])).toBe(3);
  });
});
