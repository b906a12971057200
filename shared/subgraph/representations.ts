/**
 * How many entity representations one operation asks `_entities` to resolve: each is one
 * `__resolveReference`, so the count is capped before anything runs (a cost estimate cannot see it:
 * it is in the variables, not the document).
 */
import { Kind, type FragmentDefinitionNode, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode, type ValueNode } from 'graphql';
import { LimitCode, LimitExceededError } from '../limits';

export const ENTITIES_FIELD = '_entities';

/** The representations of every `_entities` field at the operation's root (aliased or behind fragments), added up. */
export function countRepresentations(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode): number => {
    let count = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value !== ENTITIES_FIELD) continue;
        const argument = selection.arguments?.find((candidate) => candidate.name.value === 'representations');
        count += argument ? sizeOf(argument.value, variables ?? {}) : 0;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        count += walk(selection.selectionSet);
      } else {
        // A fragment spread twice at the root merges into the same fields: count it once.
        const definition = fragments.get(selection.name.value);
        if (!definition || seen.has(definition.name.value)) continue;
        seen.add(definition.name.value);
        count += walk(definition.selectionSet);
      }
    }
    return count;
  };
  return operation.operation === 'query' ? walk(operation.selectionSet) : 0;
}

/** A list is its length; anything else is coerced to a list of one (GraphQL's input coercion). */
function sizeOf(value: ValueNode, variables: Record<string, unknown>): number {
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind === Kind.VARIABLE) {
    const given = variables[value.name.value];
    if (given === undefined || given === null) return 0;
    return Array.isArray(given) ? given.length : 1;
  }
  return value.kind === Kind.NULL ? 0 : 1;
}

export function enforceRepresentationLimit(count: number, limit: number): void {
  if (count > limit) {
    throw new LimitExceededError(LimitCode.TOO_MANY_REPRESENTATIONS, `${count} entity representations in one request exceed the limit of ${limit}`, count, limit);
  }
}
