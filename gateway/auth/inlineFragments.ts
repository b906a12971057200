/**
 * The same operation with named fragment spreads replaced by inline fragments on the same type,
 * so each field sits at its place in the response. Authorization judges and reports fields
 * there: a field removed inside `fragment U on User` is at `me.email`, not at `email`.
 *
 * Only the fragments `shouldInline` names are inlined (authorization: those holding a field to
 * remove); the others stay spread, with their definitions. Inlining copies a fragment once per
 * spread, so a fan-out grows exponentially: the fields the result would hold are counted first
 * (once per fragment, linear), and a document over `maxFields` is refused before anything is built.
 */
import { Kind, visit, type DefinitionNode, type DocumentNode, type FragmentDefinitionNode, type InlineFragmentNode, type SelectionSetNode } from 'graphql';
import { LimitCode, LimitExceededError } from '@trellis/kit/internal';
import { fragmentsOf, perFragment } from './perFragment';

export interface InlineOptions {
  /** Which fragments to inline where they are spread (default: all). */
  shouldInline?: (name: string) => boolean;
  /** Most fields the inlined operations may hold (default: no bound). */
  maxFields?: number;
}

export function inlineFragments(document: DocumentNode, { shouldInline = () => true, maxFields = Infinity }: InlineOptions = {}): DocumentNode {
  const fragments = fragmentsOf(document.definitions);
  if (fragments.size === 0) return document;

  const fields = inlinedFields(document, fragments, shouldInline);
  if (fields > maxFields) {
    throw new LimitExceededError(LimitCode.QUERY_TOO_COSTLY, `${fields} fields once fragments are inlined exceed the cost limit of ${maxFields}`, fields, maxFields);
  }

  const inline = (selectionSet: SelectionSetNode, spreading: readonly string[]): SelectionSetNode =>
    visit(selectionSet, {
      FragmentSpread(spread): InlineFragmentNode | undefined {
        const name = spread.name.value;
        const fragment = fragments.get(name);
        // Validation refuses both before we run; this keeps a bad document from looping here all the same.
        if (!fragment) throw new Error(`unknown fragment ${name}`);
        if (spreading.includes(name)) throw new Error(`fragment ${name} spreads itself`);
        if (!shouldInline(name)) return undefined;
        return {
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: fragment.typeCondition,
          directives: [...(spread.directives ?? []), ...(fragment.directives ?? [])],
          selectionSet: inline(fragment.selectionSet, [...spreading, name]),
        };
      },
    });

  const operations = document.definitions.flatMap((definition) =>
    definition.kind === Kind.OPERATION_DEFINITION ? [{ ...definition, selectionSet: inline(definition.selectionSet, []) }] : [],
  );
  const kept = stillSpread(operations.map((operation) => operation.selectionSet), fragments);
  return {
    ...document,
    // An executable document holds operations and fragments only.
    definitions: document.definitions.flatMap((definition): DefinitionNode[] => {
      if (definition.kind === Kind.OPERATION_DEFINITION) return [operations.shift()!];
      return kept.has((definition as FragmentDefinitionNode).name.value) ? [definition] : [];
    }),
  };
}

/** Fields in the operations once the chosen fragments are inlined: each fragment counted once, times its spreads. */
function inlinedFields(document: DocumentNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, shouldInline: (name: string) => boolean): number {
  const fragment = perFragment(fragments, (definition) => selectionSet(definition.selectionSet), 0);
  const selectionSet = (set: SelectionSetNode): number =>
    set.selections.reduce((sum, selection) => {
      if (selection.kind === Kind.FIELD) return sum + 1 + (selection.selectionSet ? selectionSet(selection.selectionSet) : 0);
      if (selection.kind === Kind.INLINE_FRAGMENT) return sum + selectionSet(selection.selectionSet);
      return sum + (shouldInline(selection.name.value) ? fragment(selection.name.value) : 0);
    }, 0);
  return document.definitions.reduce((sum, definition) => sum + (definition.kind === Kind.OPERATION_DEFINITION ? selectionSet(definition.selectionSet) : 0), 0);
}

/** The fragments the inlined operations still spread, and those they spread in turn. */
function stillSpread(sets: SelectionSetNode[], fragments: ReadonlyMap<string, FragmentDefinitionNode>): Set<string> {
  const kept = new Set<string>();
  const pending = [...sets];
  for (let set = pending.pop(); set; set = pending.pop()) {
    visit(set, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (kept.has(name)) return;
        kept.add(name);
        const definition = fragments.get(name);
        if (definition) pending.push(definition.selectionSet);
      },
    });
  }
  return kept;
}
