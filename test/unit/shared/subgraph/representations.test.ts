import { parse, getOperationAST } from 'graphql';
import { countRepresentations, enforceRepresentationLimit } from '@trellis/kit/internal/subgraph/representations';
import { LimitExceededError } from '@trellis/kit/internal/limits';

const count = (query: string, variables?: Record<string, unknown>) => {
  const document = parse(query);
  return countRepresentations(document, getOperationAST(document)!, variables);
};

describe('countRepresentations', () => {
  it('counts a list variable by its length, a single object as one, a missing or null one as none', () => {
    const query = 'query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }';
    expect(count(query, { r: [{}, {}, {}] })).toBe(3);
    expect(count(query, { r: { __typename: 'User' } })).toBe(1);
    expect(count(query, {})).toBe(0);
    expect(count(query, { r: null })).toBe(0);
    expect(count(query)).toBe(0);
  });

  it('counts a list written inline, and an object or null written inline', () => {
    expect(count('{ _entities(representations: [{ a: 1 }, { a: 2 }]) { __typename } }')).toBe(2);
    expect(count('{ _entities(representations: { a: 1 }) { __typename } }')).toBe(1);
    expect(count('{ _entities(representations: null) { __typename } }')).toBe(0);
  });

  it('adds up every _entities at the root, aliased, in inline fragments and in a fragment spread once', () => {
    const query = `query ($r: [_Any!]!) {
      a: _entities(representations: $r) { __typename }
      ... { b: _entities(representations: [{ x: 1 }]) { __typename } }
      ...F ...F
      users { _entities }
    }
    fragment F on Query { c: _entities(representations: $r) { __typename } }`;
    expect(count(query, { r: [1, 2, 3, 4] })).toBe(4 + 1 + 4);
  });

  it('counts nothing in a mutation, nor an _entities without representations', () => {
    expect(count('mutation ($r: [_Any!]!) { _entities(representations: $r) { __typename } }', { r: [1, 2] })).toBe(0);
    expect(count('{ _entities { __typename } }')).toBe(0);
  });
});

describe('enforceRepresentationLimit', () => {
  it('lets the limit through and refuses one more with TOO_MANY_REPRESENTATIONS, the count and the limit', () => {
    expect(() => enforceRepresentationLimit(5, 5)).not.toThrow();
    let refusal: unknown;
    try {
      enforceRepresentationLimit(6, 5);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(LimitExceededError);
    expect(refusal).toMatchObject({ message: '6 entity representations in one request exceed the limit of 5', extensions: { code: 'TOO_MANY_REPRESENTATIONS', measured: 6, limit: 5 } });
  });
});
