/** Named fragments inlined where they are spread, so every field is judged at its response path. */
import { parse, print } from 'graphql';
import { inlineFragments } from '../../../../gateway/auth/inlineFragments';
import { LimitExceededError } from '../../../../gateway/limits';

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

  it('inlines only the fragments it is told to, keeping the others spread with their definitions, in order', () => {
    const query = 'query { me { ...A ...B } } fragment A on User { id ...C } fragment B on User { email ...C } fragment C on User { name ...D } fragment D on User { id } fragment Unused on User { id }';
    const only = (names: string[]) => print(inlineFragments(parse(query), { shouldInline: (name) => names.includes(name) }));
    expect(only(['B'])).toBe(
      print(parse('{ me { ...A ... on User { email ...C } } } fragment A on User { id ...C } fragment C on User { name ...D } fragment D on User { id }')),
    );
    expect(only(['A', 'B', 'C'])).toBe(print(parse('{ me { ... on User { id ... on User { name ...D } } ... on User { email ... on User { name ...D } } } } fragment D on User { id }')));
    expect(only([])).toBe(print(parse('{ me { ...A ...B } } fragment A on User { id ...C } fragment B on User { email ...C } fragment C on User { name ...D } fragment D on User { id }')));
  });

  it('refuses, before building anything, an inlining that would make more fields than maxFields', () => {
    const query = '{ me { ...A ...A ... on User { id } } } fragment A on User { id friend { ...B } } fragment B on User { name }';
    // me + 2 × (id + friend + name) + id = 8 fields
    expect(print(inlineFragments(parse(query), { maxFields: 8 }))).toContain('friend');
    let refusal: unknown;
    try {
      inlineFragments(parse(query), { maxFields: 7 });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(LimitExceededError);
    expect(refusal).toMatchObject({ code: 'QUERY_TOO_COSTLY', measured: 8, limit: 7, message: '8 fields once fragments are inlined exceed the cost limit of 7' });
    // A fragment left spread adds nothing: it is not copied.
    expect(() => inlineFragments(parse(query), { maxFields: 5, shouldInline: (name) => name === 'A' })).toThrow('6 fields');
    expect(() => inlineFragments(parse(query), { maxFields: 6, shouldInline: (name) => name === 'A' })).not.toThrow();
    expect(() => inlineFragments(parse(query), { maxFields: 2, shouldInline: () => false })).not.toThrow();
  });

  it('counts a fragment fan-out once per fragment, so an exponential one is refused at once', () => {
    const levels = 300;
    const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on User { ${i + 1 < levels ? `...F${i + 1} ... on User { ...F${i + 1} }` : 'id'} }`).join(' ');
    expect(() => inlineFragments(parse(`{ me { ...F0 } } ${fragments}`), { maxFields: 5000 })).toThrow(`${1 + 2 ** (levels - 1)} fields once fragments are inlined`);
    expect(print(inlineFragments(parse(`{ me { ...F0 } } ${fragments}`), { maxFields: 5000, shouldInline: () => false }))).toContain('...F0');
  });

  it('counts every operation, and its count ends on a cycle (which inlining then refuses)', () => {
    expect(() => inlineFragments(parse('query A { me { ...F } } query B { me { ...F } } fragment F on User { id name }'), { maxFields: 5 })).toThrow('6 fields');
    expect(() => inlineFragments(parse('{ me { ...A } } fragment A on User { id ...B } fragment B on User { ...A }'), { maxFields: 2 })).toThrow('fragment A spreads itself');
  });
});
