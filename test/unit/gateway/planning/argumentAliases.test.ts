/**
 * The document rewrite for a client field that a `@requires` selects with other arguments, on a
 * schema written here (argumentConflicts.test.ts plans the composed case): which fields get an
 * alias, through interfaces and fragments, and how every response name comes back.
 */
import { buildSchema, GraphQLError, parse, print, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
import { aliasRequiresConflicts, renameBack } from '../../../../gateway/planning/argumentAliases';
import { RequiresIndex } from '../../../../gateway/planning/requiresIndex';

const schema = buildSchema(`
  type Query { post: Post, feed: [Entry!]!, node: Node }
  interface Node { id: ID! }
  interface Entry { comments(limit: Int!): [Comment!]! }
  type Post implements Entry & Node { id: ID!, comments(limit: Int!): [Comment!]!, summary: String!, title: String }
  type Note implements Entry { comments(limit: Int!): [Comment!]! }
  type Comment { id: ID! }
`);
// Post.summary @requires(fields: "comments(limit: 3) { id }")
const index = new RequiresIndex([{ subgraph: 'digest', typeName: 'Post', field: 'summary', selects: [{ name: 'comments', printedArguments: '(limit: 3)' }] }]);

const rewrite = (query: string) => {
  const aliased = aliasRequiresConflicts(schema, index, parse(query));
  return aliased && { document: print(aliased.document), renames: Object.fromEntries(aliased.renames) };
};

describe('aliasRequiresConflicts', () => {
  it('aliases the client`s field, also when the client aliased it to its own name', () => {
    expect(rewrite('{ post { comments(limit: 1) { id } summary } }')).toEqual({
      document: print(parse('{ post { comments_trellis0: comments(limit: 1) { id } summary } }')),
      renames: { comments_trellis0: 'comments' },
    });
    expect(rewrite('{ post { comments: comments(limit: 1) { id } summary } }')?.renames).toEqual({ comments_trellis0: 'comments' });
  });

  it('finds the conflict through an interface and a named fragment', () => {
    expect(rewrite('{ feed { comments(limit: 1) { id } ... on Post { summary } } }')).toEqual({
      document: print(parse('{ feed { comments_trellis0: comments(limit: 1) { id } ... on Post { summary } } }')),
      renames: { comments_trellis0: 'comments' },
    });
    expect(rewrite('{ post { ...P summary } } fragment P on Post { comments(limit: 1) { id } }')?.document).toBe(
      print(parse('{ post { ...P summary } } fragment P on Post { comments_trellis0: comments(limit: 1) { id } }')),
    );
  });

  it('finds the conflict among several fields a @requires selects', () => {
    const both = new RequiresIndex([{ subgraph: 'digest', typeName: 'Post', field: 'summary', selects: [{ name: 'title', printedArguments: '' }, { name: 'comments', printedArguments: '(limit: 3)' }] }]);
    const aliased = aliasRequiresConflicts(schema, both, parse('{ post { title comments(limit: 1) { id } summary } }'));
    expect(aliased && print(aliased.document)).toBe(print(parse('{ post { title comments_trellis0: comments(limit: 1) { id } summary } }')));
  });

  it('gives each conflicting field its own alias', () => {
    expect(rewrite('{ post { comments(limit: 1) { id } summary } feed { ... on Post { comments(limit: 2) { id } } } }')).toEqual({
      document: print(parse('{ post { comments_trellis0: comments(limit: 1) { id } summary } feed { ... on Post { comments_trellis1: comments(limit: 2) { id } } } }')),
      renames: { comments_trellis0: 'comments', comments_trellis1: 'comments' },
    });
  });

  it('leaves a document alone when the requiring field is selected on another type only, or nothing requires', () => {
    // a Post's summary is selected, but these comments are a Note's, which nothing requires
    expect(rewrite('{ feed { ... on Note { comments(limit: 1) { id } } } post { summary } }')).toBeUndefined();
    expect(rewrite('{ node { id } }')).toBeUndefined();
    expect(aliasRequiresConflicts(schema, new RequiresIndex([]), parse('{ post { comments(limit: 1) { id } summary } }'))).toBeUndefined();
  });
});

describe('renameBack', () => {
  const renames = new Map([['comments_trellis0', 'comments']]);

  it('renames keys at every depth, through lists, leaving values and other keys as they are', () => {
    const result = renameBack(
      { data: { post: { comments_trellis0: [{ id: 'c1' }, null], summary: 's', tags: ['comments_trellis0'], nested: [[{ comments_trellis0: [] }]] } }, extensions: { cost: 1 } },
      renames,
    );
    expect(result).toStrictEqual({
      data: { post: { comments: [{ id: 'c1' }, null], summary: 's', tags: ['comments_trellis0'], nested: [[{ comments: [] }]] } },
      extensions: { cost: 1 },
    });
  });

  it('keeps no data as no data, and adds no errors to a result without them', () => {
    expect(renameBack({ data: null }, renames)).toStrictEqual({ data: null });
    expect(renameBack({}, renames)).toStrictEqual({ data: undefined });
  });

  it('renames error paths, keeping the rest of each error', () => {
    const original = new Error('inner');
    const [node] = (parse('{ post { id } }').definitions[0] as OperationDefinitionNode).selectionSet.selections;
    const graphql = new GraphQLError('boom', { path: ['post', 'comments_trellis0', 0, 'id'], nodes: [node], extensions: { code: 'X' }, originalError: original });
    const pathless = new GraphQLError('no path');
    const plain = { message: 'plain', path: ['comments_trellis0', 1], extensions: { code: 'Y' } };
    const { errors } = renameBack({ data: null, errors: [graphql, pathless, plain as unknown as GraphQLError] } as ExecutionResult, renames);
    expect(errors?.[0]).toBeInstanceOf(GraphQLError);
    expect(errors?.[0]).toMatchObject({ message: 'boom', path: ['post', 'comments', 0, 'id'], nodes: [node], extensions: { code: 'X' }, originalError: original });
    expect(errors?.[1]).toBe(pathless);
    expect(errors?.[2]).toStrictEqual({ message: 'plain', path: ['comments', 1], extensions: { code: 'Y' } });
  });
});
