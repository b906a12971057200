/** Named fragments inlined where they are spread, so every field is judged at its response path. */
import { parse, print } from 'graphql';
import { inlineFragments } from '../../../../gateway/auth/inlineFragments';

const inlined = (query: string) => print(inlineFragments(parse(query)));

describe('inlineFragments', () => {
  it('returns the same document when it has no fragments', () => {
    const document = parse('{ me { id } }');
    expect(inlineFragments(document)).toBe(document);
  });

  it('replaces each spread by an inline fragment on the same type, nested ones too, keeping both directives', () => {
    expect(inlined('query Q($s: Boolean!) { me { ...A @include(if: $s) } } fragment A on User @deprecatedish { id ...B } fragment B on User { name }')).toBe(
      print(parse('query Q($s: Boolean!) { me { ... on User @include(if: $s) @deprecatedish { id ... on User { name } } } }')),
    );
  });

  it('drops the fragment definitions and keeps every operation', () => {
    expect(inlined('query A { me { ...F } } query B { user { ...F } } fragment F on User { id }')).toBe(print(parse('query A { me { ... on User { id } } } query B { user { ... on User { id } } }')));
  });

  it('refuses an unknown fragment and a fragment that spreads itself, rather than looping', () => {
    expect(() => inlineFragments(parse('{ me { ...Missing } } fragment Other on User { id }'))).toThrow('unknown fragment Missing');
    expect(() => inlineFragments(parse('{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }'))).toThrow('fragment A spreads itself');
  });

  it('the same fragment spread twice side by side is fine (not a cycle)', () => {
    expect(inlined('{ a: me { ...F } b: me { ...F } } fragment F on User { id }')).toBe(print(parse('{ a: me { ... on User { id } } b: me { ... on User { id } } }')));
  });
});
