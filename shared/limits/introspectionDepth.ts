/**
 * How deep an operation nests introspection lists. The introspection schema is recursive
 * (`__Type.fields` → `__Field.type` → `__Type.fields` …), so each nested list multiplies the answer
 * by the size of the schema, while `ofType` chains (which the standard query nests 9 deep) grow it
 * by one object each. The lists counted are the ones graphql-js's `MaxIntrospectionDepthRule` (and
 * Apollo Router's `introspection_max_depth`) count, so this measure and that rule agree.
 */
import { Kind, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

const INTROSPECTION_LISTS = new Set(['fields', 'interfaces', 'possibleTypes', 'inputFields']);
const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

export function introspectionListDepth(operation: OperationDefinitionNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>): number {
  const measured = new Map<string, number>();
  const inProgress = new Set<string>();

  const throughFragment = (name: string, inner: (set: SelectionSetNode) => number): number => {
    const known = measured.get(name);
    if (known !== undefined) return known;
    const definition = fragments.get(name);
    // A cycle is refused by validation; here it only has to end.
    if (!definition || inProgress.has(name)) return 0;
    inProgress.add(name);
    const depth = inner(definition.selectionSet);
    // Stryker disable next-line BlockStatement,CallExpression: unobservable, the memo below answers every later spread first
    inProgress.delete(name);
    measured.set(name, depth);
    return depth;
  };

  /** Nesting of introspection lists inside an introspection field. */
  const lists = (set: SelectionSetNode): number => {
    let deepest = 0;
    for (const selection of set.selections) {
      let depth: number;
      if (selection.kind === Kind.FIELD) {
        const below = selection.selectionSet ? lists(selection.selectionSet) : 0;
        depth = (INTROSPECTION_LISTS.has(selection.name.value) ? 1 : 0) + below;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        depth = lists(selection.selectionSet);
      } else {
        depth = throughFragment(selection.name.value, lists);
      }
      deepest = Math.max(deepest, depth);
    }
    return deepest;
  };

  // Introspection fields sit at the root, perhaps inside root fragments; root fragments are
  // measured by the walk below, not by `lists`, so they get their own memo.
  const rootFragments = new Map<string, number>();
  const root = (set: SelectionSetNode): number => {
    let deepest = 0;
    for (const selection of set.selections) {
      let depth = 0;
      if (selection.kind === Kind.FIELD) {
        if (INTROSPECTION_ROOTS.has(selection.name.value) && selection.selectionSet) depth = lists(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        depth = root(selection.selectionSet);
      } else {
        const name = selection.name.value;
        const definition = fragments.get(name);
        if (definition && !rootFragments.has(name)) {
          rootFragments.set(name, 0);
          rootFragments.set(name, root(definition.selectionSet));
        }
        depth = rootFragments.get(name) ?? 0;
      }
      deepest = Math.max(deepest, depth);
    }
    return deepest;
  };

  return root(operation.selectionSet);
}
