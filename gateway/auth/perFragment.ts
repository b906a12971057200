/**
 * A value per named fragment of a document, computed once however often the fragment is spread:
 * what keeps a walk through a fragment fan-out (F0 spreads F1 twice, F1 spreads F2 twice, …)
 * linear instead of 2^n. A fragment spread inside its own computation (a cycle, which validation
 * refuses before this runs) or an unknown one gets `fallback`, so a bad document still ends.
 */
import { Kind, type DefinitionNode, type FragmentDefinitionNode } from 'graphql';

export function perFragment<T>(fragments: ReadonlyMap<string, FragmentDefinitionNode>, compute: (definition: FragmentDefinitionNode) => T, fallback: T): (name: string) => T {
  const computed = new Map<string, T>();
  const inProgress = new Set<string>();
  return (name) => {
    if (computed.has(name)) return computed.get(name)!;
    const definition = fragments.get(name);
    if (!definition || inProgress.has(name)) return fallback;
    inProgress.add(name);
    const value = compute(definition);
    // Stryker disable next-line BlockStatement,CallExpression: unobservable, the memo below answers every later spread first
    inProgress.delete(name);
    computed.set(name, value);
    return value;
  };
}

/** The document's fragment definitions by name. */
export function fragmentsOf(definitions: readonly DefinitionNode[]): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  return fragments;
}
