/**
 * The two patches to @apollo/query-graphs 2.14.4 (patches/), in the style of the library's own
 * buildPlan tests: compose small subgraphs, build a plan, check the fetches it makes.
 */
import { prettyFormatQueryPlan } from '@apollo/query-planner';
import { readFileSync } from 'node:fs';
import { plannerFor } from '../../support/planner/plan';
import { nonResolvableKeyCase, unreachableInterfaceObjectCase } from '../../support/planner/cases';

describe('patch 001: a resolvable key to jump back after @requires', () => {
  it('is applied to the installed package (by postinstall)', () => {
    const source = readFileSync(require.resolve('@apollo/query-graphs/dist/graphPath.js'), 'utf8');
    expect(source).toContain('Prefer a key the subgraph can resolve');
  });

  it('comes back to b with the resolvable key `id`, not the first (non-resolvable) key `other`', () => {
    const { pretty } = plannerFor(nonResolvableKeyCase).apolloPlan('{ t { y } }');
    const lastFetch = pretty.slice(pretty.lastIndexOf('Fetch(service: "b")'));
    expect(lastFetch).toMatch(/__typename\s+x\s+id\s+}\s+} =>/);
    expect(pretty).not.toMatch(/\bother\b/);
  });

  it('still plans an interface object whose only key is non-resolvable (why the upstream fix was reverted)', () => {
    const { pretty } = plannerFor(unreachableInterfaceObjectCase).apolloPlan('{ product { ... on Bread { id } } }');
    expect(pretty).toContain('Fetch(service: "a")');
    expect(pretty).toContain('Fetch(service: "b")');
  });
});

describe('patch 002: a field no path reaches is a planning error, not an empty plan', () => {
  it('fails to plan Node.field through a, where no implementation of Node lives', () => {
    const planner = plannerFor(unreachableInterfaceObjectCase);
    expect(() => planner.apolloPlan('{ a { id field } }')).toThrow(/Was not able to find any options for field/);
  });

  it('leaves the reachable selections planned as before', () => {
    const planner = plannerFor(unreachableInterfaceObjectCase);
    expect(prettyFormatQueryPlan(planner.apolloPlan('{ a { id } b { id field } }').plan)).toContain('Parallel');
  });
});
