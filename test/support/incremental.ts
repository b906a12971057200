/**
 * @defer for the every-transport tests: a query rewritten with `... @defer` wherever a selection
 * has something to put off, and an incremental answer (either wire format) merged back into the
 * one result a client ends with, strictly, so a part that is lost, doubled or misplaced fails.
 */
import { isNonNullType, Kind, parse, print, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type FieldNode, type GraphQLSchema, type InlineFragmentNode, type SelectionNode, type SelectionSetNode } from 'graphql';

type Json = Record<string, unknown>;
type Path = ReadonlyArray<string | number>;

const deferred = (selections: readonly SelectionNode[]): InlineFragmentNode => ({
  kind: Kind.INLINE_FRAGMENT,
  directives: [{ kind: Kind.DIRECTIVE, name: { kind: Kind.NAME, value: 'defer' }, arguments: [] }],
  selectionSet: { kind: Kind.SELECTION_SET, selections },
});

/**
 * The query with, in every selection (root, nested, in fragments), the fields after the first that
 * may be null wrapped in `... @defer`: nested defers, defers in fragments, and defers of fields
 * other subgraphs own. Only nullable fields: an error under a non-null one would null its parent
 * in the whole answer but only its deferred fragment in an incremental one (as the incremental
 * delivery specification means), so the two could not be equal. Only queries, not introspection;
 * undefined when the document has nowhere to defer.
 */
export function withDefer(query: string, schema: GraphQLSchema): string | undefined {
  const document = parse(query);
  if (document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.operation !== 'query')) return undefined;
  const typeInfo = new TypeInfo(schema);
  let changed = false;
  let introspectionDepth = 0;
  const isIntrospection = (field: FieldNode) => field.name.value.startsWith('__') && field.name.value !== '__typename';
  const rewritten: DocumentNode = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: {
        enter: (field) => void (isIntrospection(field) && introspectionDepth++),
        leave: (field) => void (isIntrospection(field) && introspectionDepth--),
      },
      SelectionSet: {
        leave: (set): SelectionSetNode | undefined => {
          const parent = typeInfo.getParentType();
          if (introspectionDepth > 0 || set.selections.length < 2 || !parent || !('getFields' in parent)) return undefined;
          const fields = parent.getFields();
          const deferrable = (selection: SelectionNode, index: number) =>
            index > 0 && selection.kind === Kind.FIELD && !selection.name.value.startsWith('__') && fields[selection.name.value] !== undefined && !isNonNullType(fields[selection.name.value].type);
          const later = set.selections.filter(deferrable);
          if (later.length === 0) return undefined;
          changed = true;
          return { ...set, selections: [...set.selections.filter((selection, index) => !deferrable(selection, index)), deferred(later)] };
        },
      },
    }),
  );
  return changed ? print(rewritten) : undefined;
}

export type IncrementalSpec = 'deferSpec=20220824' | 'incrementalSpec=v0.2';

/** Deep-merges `data` into `target` at `path` (objects by key; lists only walked by index). */
function mergeAt(target: Json, path: Path, data: Json): void {
  let at: unknown = target;
  for (const key of path) {
    at = (at as Record<string | number, unknown> | null)?.[key];
    if (at === null || typeof at !== 'object') throw new Error(`incremental data for ${JSON.stringify(path)} has no parent in the result`);
  }
  mergeInto(at as Json, data);
}

function mergeInto(target: Json, data: Json): void {
  for (const [key, value] of Object.entries(data)) {
    const existing = target[key];
    if (value && typeof value === 'object' && existing && typeof existing === 'object') {
      if (Array.isArray(value) !== Array.isArray(existing)) throw new Error(`incremental data for "${key}" is a ${Array.isArray(value) ? 'list' : 'object'} where the result has the other`);
      if (Array.isArray(value)) {
        if (value.length !== (existing as unknown[]).length) throw new Error(`incremental list "${key}" has ${value.length} items where the result has ${(existing as unknown[]).length}`);
        value.forEach((item, index) => (item && typeof item === 'object' ? mergeInto((existing as Json[])[index], item as Json) : undefined));
      } else mergeInto(existing as Json, value as Json);
    } else target[key] = value;
  }
}

/**
 * The result an incremental answer adds up to, read strictly: the first part has `data` or errors,
 * every later part is incremental, each deferred fragment (v0.2: each pending id) is delivered or
 * completed exactly once, and only the last part says `hasNext: false`.
 */
export function mergeIncremental(parts: unknown[], spec: IncrementalSpec): { data?: Json | null; errors?: Json[] } {
  if (parts.length === 0) throw new Error('no parts');
  const [first, ...rest] = parts as Json[];
  const result: { data?: Json | null; errors?: Json[] } = {};
  if ('data' in first) result.data = structuredClone(first.data) as Json | null;
  const errors: Json[] = [...((first.errors as Json[] | undefined) ?? [])];
  const pending = new Map<string, Path>();
  const addPending = (list: unknown) => {
    for (const { id, path } of (list as Array<{ id: string; path: Path }> | undefined) ?? []) {
      if (pending.has(id)) throw new Error(`pending id ${id} announced twice`);
      pending.set(id, path);
    }
  };
  if (spec === 'incrementalSpec=v0.2') addPending(first.pending);
  parts.forEach((part, index) => {
    const isLast = index === parts.length - 1;
    if ((part as Json).hasNext !== !isLast) throw new Error(`part ${index} says hasNext: ${String((part as Json).hasNext)}, and it is ${isLast ? '' : 'not '}the last`);
  });
  for (const part of rest) {
    if ('data' in part) throw new Error(`a later part carries top-level data: ${JSON.stringify(part)}`);
    errors.push(...((part.errors as Json[] | undefined) ?? []));
    if (spec === 'deferSpec=20220824') {
      for (const item of (part.incremental as Array<{ data: Json | null; path: Path; errors?: Json[] }> | undefined) ?? []) {
        if (item.data) mergeAt(result.data as Json, item.path, item.data);
        errors.push(...(item.errors ?? []));
      }
    } else {
      addPending(part.pending);
      for (const item of (part.incremental as Array<{ id: string; data: Json; subPath?: Path; errors?: Json[] }> | undefined) ?? []) {
        const path = pending.get(item.id);
        if (!path) throw new Error(`incremental data for id ${item.id}, which is not pending`);
        mergeAt(result.data as Json, [...path, ...(item.subPath ?? [])], item.data);
        errors.push(...(item.errors ?? []));
      }
      for (const { id, errors: failed } of (part.completed as Array<{ id: string; errors?: Json[] }> | undefined) ?? []) {
        if (!pending.delete(id)) throw new Error(`completed id ${id}, which is not pending`);
        errors.push(...(failed ?? []));
      }
    }
  }
  if (pending.size > 0) throw new Error(`never completed: ids ${[...pending.keys()].join(', ')}`);
  if (errors.length > 0) result.errors = errors;
  return result;
}
