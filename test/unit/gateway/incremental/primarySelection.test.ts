/**
 * The response paths the primary part answers: every field outside an active @defer fragment
 * (inline or spread, `if` decided by a literal, a variable or its absence), through plain
 * fragments, list indices left out of the keys.
 */
import { parse, type OperationDefinitionNode } from 'graphql';
import { primaryPaths } from '../../../../gateway/incremental/execution';
import { pathKey } from '../../../../gateway/incremental/primarySelection';

const pathsOf = (source: string, variables: Record<string, unknown> = {}, index = 0) => {
  const document = parse(source);
  const operations = document.definitions.filter((d) => d.kind === 'OperationDefinition');
  return [...primaryPaths(document, operations[index] as OperationDefinitionNode, variables)].sort();
};

describe('primaryPaths', () => {
  it('fields by response key, nested under their parents; fields inside a deferred fragment left out', () => {
    expect(pathsOf('{ items: products { id ... @defer { reviews { body } } ... on Product { name } } me { id } }')).toStrictEqual([
      'items',
      'items.id',
      'items.name',
      'me',
      'me.id',
    ]);
  });

  it('a spread fragment is read where it is spread, unless it is deferred', () => {
    const source = `query Q { products { ...Plain ...Later @defer(label: "later") } }
      fragment Plain on Product { id author { name } }
      fragment Later on Product { reviews { body } }`;
    expect(pathsOf(source)).toStrictEqual(['products', 'products.author', 'products.author.name', 'products.id']);
  });

  it('@defer(if: false) and a false variable keep the fragment in the primary part; true defers it', () => {
    const source = 'query Q($later: Boolean!) { a { x ... @defer(if: false) { y } ... @defer(if: true) { z } ... @defer(if: $later) { w } } }';
    expect(pathsOf(source, { later: false })).toStrictEqual(['a', 'a.w', 'a.x', 'a.y']);
    expect(pathsOf(source, { later: true })).toStrictEqual(['a', 'a.x', 'a.y']);
    const other = parse('{ a { ... @skip(if: false) { v } ... @defer(label: "l") { u } } }');
    expect([...primaryPaths(other, other.definitions[0] as OperationDefinitionNode, {})].sort()).toStrictEqual(['a', 'a.v']);
  });

  it("a variable the request does not send is decided as the plan's condition is: by its default", () => {
    const source = 'query Q($later: Boolean = false, $soon: Boolean = true) { a { ... @defer(if: $later) { w } ... @defer(if: $soon) { s } } }';
    expect(pathsOf(source)).toStrictEqual(['a', 'a.w']);
    expect(pathsOf(source, { later: true, soon: false })).toStrictEqual(['a', 'a.s']);
  });

  it('the operation given is the one read', () => {
    const source = 'query A { a { x } } query B { b { y } }';
    expect(pathsOf(source, {}, 1)).toStrictEqual(['b', 'b.y']);
  });

  it('a fragment spread inside itself is read once (validation refuses it; the walk still ends)', () => {
    const source = 'query Q { node { ...Loop } } fragment Loop on Node { id ...Loop }';
    expect(pathsOf(source)).toStrictEqual(['node', 'node.id']);
  });

  it('a spread of a fragment the document does not define adds nothing', () => {
    expect(pathsOf('{ node { id ...Missing } }')).toStrictEqual(['node', 'node.id']);
  });
});

describe('pathKey', () => {
  it("response keys only: list indices and the planner's '@' left out", () => {
    expect(pathKey(['products', 0, 'reviews', '@', 'body'])).toBe('products.reviews.body');
    expect(pathKey([])).toBe('');
  });
});
