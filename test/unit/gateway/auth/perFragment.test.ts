/** One value per fragment, whatever the number of its spreads; a cycle or an unknown fragment ends with the fallback. */
import { parse, type FragmentDefinitionNode } from 'graphql';
import { fragmentsOf, perFragment } from '../../../../gateway/auth/perFragment';

describe('perFragment', () => {
  it('computes each fragment once and answers every later spread from the memo', () => {
    const fragments = fragmentsOf(parse('{ a } fragment A on Q { b } fragment B on Q { c }').definitions);
    expect([...fragments.keys()]).toEqual(['A', 'B']);
    const compute = jest.fn((definition: FragmentDefinitionNode) => definition.name.value.toLowerCase());
    const value = perFragment(fragments, compute, 'fallback');
    expect([value('A'), value('A'), value('B'), value('A')]).toEqual(['a', 'a', 'b', 'a']);
    expect(compute).toHaveBeenCalledTimes(2);
  });

  it('gives the fallback for an unknown fragment and for a spread inside its own computation', () => {
    const fragments = fragmentsOf(parse('fragment A on Q { ...B } fragment B on Q { ...A }').definitions);
    const seen: string[] = [];
    const value: (name: string) => string = perFragment(fragments, (definition) => {
      const inner = definition.name.value === 'A' ? value('B') : value('A');
      seen.push(`${definition.name.value}:${inner}`);
      return `${definition.name.value}(${inner})`;
    }, 'cycle');
    expect(value('Missing')).toBe('cycle');
    expect(value('A')).toBe('A(B(cycle))');
    expect(seen).toEqual(['B:cycle', 'A:B(cycle)']);
    // B was computed inside A's computation, and is kept.
    expect(value('B')).toBe('B(cycle)');
  });
});
