/**
 * After a split (`requiredTwice.ts`), each argument variant of the required field is fetched again
 * right before the fetch that needs it. The variants Apollo's planner put side by side in other
 * fetches for the same requirements are then redundant, and harmful: in one selection set,
 * `price(currency: EUR)` beside `... on Product @include(if: $c) { price(currency: USD) }` is two
 * fields with one response name and different arguments, which the subgraph refuses
 * ("Fields price conflict"). Each such selection set keeps the first variant and drops the others
 * (and inline fragments left empty). Client fields never share that response name with other
 * arguments: `argumentAliases.ts` aliases them before planning.
 */
import { Kind, parse, visit, type FieldNode, type SelectionNode, type SelectionSetNode } from 'graphql';
import type { FetchNode, PlanNode } from '@apollo/query-planner';
import { printArguments } from './requiresIndex';
import { withOperation, type Conflict } from './requiredTwice';

export interface Split {
  /** Each field required in several variants by a fetch that was split. */
  conflicts: Conflict[];
  /** The fetches the splits made (left as they are). */
  made: WeakSet<FetchNode>;
}

/** `node` with every other fetch asking one variant of each split field per selection set. */
export function dropRedundantVariants(node: PlanNode, split: Split): PlanNode {
  switch (node.kind) {
    case 'Sequence':
    case 'Parallel': {
      const nodes = node.nodes.map((child) => dropRedundantVariants(child, split));
      return nodes.every((child, i) => child === node.nodes[i]) ? node : { ...node, nodes };
    }
    case 'Flatten': {
      const inner = dropRedundantVariants(node.node, split);
      return inner === node.node ? node : { ...node, node: inner };
    }
    case 'Condition': {
      const ifClause = node.ifClause && dropRedundantVariants(node.ifClause, split);
      const elseClause = node.elseClause && dropRedundantVariants(node.elseClause, split);
      return ifClause === node.ifClause && elseClause === node.elseClause ? node : { ...node, ifClause, elseClause };
    }
    case 'Fetch':
      return split.made.has(node) ? node : narrowed(node, split.conflicts);
    case 'Defer':
      return node;
  }
}

function narrowed(fetch: FetchNode, conflicts: Conflict[]): FetchNode {
  let changed = false;
  const document = visit(parse(fetch.operation), {
    SelectionSet(set): SelectionSetNode | undefined {
      const dropped = new Set<FieldNode>();
      for (const conflict of conflicts) {
        const occurrences = fieldsNamed(set, conflict.field);
        const printed = occurrences.map(printArguments);
        if (new Set(printed).size < 2 || !printed.every((variant) => conflict.variants.has(variant))) continue;
        occurrences.forEach((field, i) => printed[i] !== printed[0] && dropped.add(field));
      }
      if (dropped.size === 0) return undefined;
      changed = true;
      return without(set, dropped);
    },
  });
  return changed ? withOperation(fetch, document) : fetch;
}

/** Unaliased fields named `name` in `set` and in the inline fragments merged into it, in document order. */
function fieldsNamed(set: SelectionSetNode, name: string): FieldNode[] {
  return set.selections.flatMap((selection) => {
    if (selection.kind === Kind.INLINE_FRAGMENT) return fieldsNamed(selection.selectionSet, name);
    return selection.kind === Kind.FIELD && selection.name.value === name && (!selection.alias || selection.alias.value === name) ? [selection] : [];
  });
}

function without(set: SelectionSetNode, dropped: Set<FieldNode>): SelectionSetNode {
  const selections = set.selections.flatMap((selection): SelectionNode[] => {
    if (selection.kind === Kind.FIELD) return dropped.has(selection) ? [] : [selection];
    if (selection.kind !== Kind.INLINE_FRAGMENT) return [selection];
    const inner = without(selection.selectionSet, dropped);
    return inner.selections.length === 0 ? [] : [{ ...selection, selectionSet: inner }];
  });
  return { ...set, selections };
}
