/**
 * The response paths the primary part answers (as `a.b.c`, list indices left out): every field
 * the client's operation selects outside an active @defer fragment. A check's finish (auth's nulls
 * and FORBIDDEN errors) knows only paths, and a field removed inside a deferred fragment must come
 * with that fragment, not with the primary part.
 */
import {
  Kind,
  valueFromAST,
  GraphQLBoolean,
  type DirectiveNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { ResponsePath } from './shaping';

export function primaryPaths(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): Set<string> {
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((f) => [f.name.value, f]),
  );
  const deferred = (directives: readonly DirectiveNode[] | undefined) => {
    const defer = directives?.find((d) => d.name.value === 'defer');
    const condition = defer?.arguments?.find((a) => a.name.value === 'if')?.value;
    if (!defer) return false;
    if (!condition) return true;
    if (condition.kind === Kind.VARIABLE) return variables[condition.name.value] !== false;
    return valueFromAST(condition, GraphQLBoolean) !== false;
  };
  const paths = new Set<string>();
  const walk = (selectionSet: SelectionSetNode, at: string, seen: Set<string>) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const path = `${at}${at ? '.' : ''}${selection.alias?.value ?? selection.name.value}`;
        paths.add(path);
        if (selection.selectionSet) walk(selection.selectionSet, path, seen);
      } else if (!deferred(selection.directives)) {
        const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
        const name = selection.kind === Kind.FRAGMENT_SPREAD ? selection.name.value : undefined;
        // A fragment spread inside itself is invalid, and validation refused it; guard anyway.
        if (fragment && !(name && seen.has(name)))
          walk(fragment.selectionSet, at, name ? new Set([...seen, name]) : seen);
      }
    }
  };
  walk(operation.selectionSet, '', new Set());
  return paths;
}

/** `path` as `primaryPaths` spells it: response keys only. */
export function pathKey(path: ReadonlyArray<string | number> | ResponsePath): string {
  return path.filter((segment) => typeof segment === 'string' && segment !== '@').join('.');
}
