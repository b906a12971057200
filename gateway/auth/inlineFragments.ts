/**
 * The same operation with every named fragment spread replaced by an inline fragment on the same
 * type, so each field sits at its place in the response. Authorization judges and reports fields
 * there: a field removed inside `fragment U on User` is at `me.email`, not at `email`.
 */
import { Kind, visit, type DocumentNode, type FragmentDefinitionNode, type InlineFragmentNode, type SelectionSetNode } from 'graphql';

export function inlineFragments(document: DocumentNode): DocumentNode {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  if (fragments.size === 0) return document;

  const inline = (selectionSet: SelectionSetNode, spreading: readonly string[]): SelectionSetNode =>
    visit(selectionSet, {
      FragmentSpread(spread): InlineFragmentNode {
        const name = spread.name.value;
        const fragment = fragments.get(name);
        // Validation refuses both before we run; this keeps a bad document from looping here all the same.
        if (!fragment) throw new Error(`unknown fragment ${name}`);
        if (spreading.includes(name)) throw new Error(`fragment ${name} spreads itself`);
        return {
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: fragment.typeCondition,
          directives: [...(spread.directives ?? []), ...(fragment.directives ?? [])],
          selectionSet: inline(fragment.selectionSet, [...spreading, name]),
        };
      },
    });

  return {
    ...document,
    definitions: document.definitions
      .filter((definition) => definition.kind !== Kind.FRAGMENT_DEFINITION)
      .map((definition) => (definition.kind === Kind.OPERATION_DEFINITION ? { ...definition, selectionSet: inline(definition.selectionSet, []) } : definition)),
  };
}
