/**
 * The documents that shape each part's answer, run by Apollo Gateway's result shaping (through
 * `executeQueryPlan`, given a part's document as its operation): the primary part by the planner's
 * primary selection, a deferred part by a "spine" from the root down to its `queryPath` around its
 * selection. Each document also probes where its child fragments apply (spines ending in an aliased
 * `__typename`), so a child's concrete paths (one per list element) are known, and announced, as
 * soon as its parent is delivered.
 */
import {
  isAbstractType,
  Kind,
  parse,
  print,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { DeferredPart } from './parts';

export type ResponsePath = Array<string | number>;
type Json = Record<string, unknown>;

/** The alias of the `__typename` a probe asks for where a path narrows by type (`__` names are reserved, so a client's is never this). */
const TYPE = 'trellis__type';
/**
 * A selection that shapes to `{}` for an object that is there and to null for one that is not:
 * the end of a child's probe, and the selection of a part whose fields are all deferred further (a
 * selection set cannot be empty). Skipped rather than asked: an entity of an @interfaceObject comes
 * without `__typename` (the plan never fetched it), and Apollo's shaping nulls an abstract-typed
 * object whose `__typename` is asked but unknown, silently.
 */
const EMPTY = `{ ${TYPE}: __typename @skip(if: true) }`;
const ON_TYPE = '... on ';

export class PartShaping {
  private readonly header: string;
  private readonly fragments: FragmentDefinitionNode[];

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly operation: OperationDefinitionNode,
    document: DocumentNode,
  ) {
    const variables = operation.variableDefinitions?.length
      ? `(${operation.variableDefinitions.map((v) => print(v)).join(', ')})`
      : '';
    this.header = `${operation.operation} ${operation.name?.value ?? ''}${variables}`;
    this.fragments = document.definitions.filter(
      (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION,
    );
  }

  /** The primary part's document: its selection from the root, and the probes of `children`. */
  primary(subselection: string | undefined, children: DeferredPart[]): DocumentNode {
    // Apollo's planner leaves the operation's own root `__typename` out of the primary part (no fetch asks for it): put it back.
    const typenames = this.operation.selectionSet.selections
      .filter((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === '__typename' && !s.directives?.length)
      .map((s) => print(s))
      .join(' ');
    const selection = subselection ?? EMPTY;
    const close = selection.lastIndexOf('}');
    return this.document(typenames ? `${selection.slice(0, close)} ${typenames} }` : selection, children);
  }

  /** A deferred part's document: the spine to its path around its selection, and the probes of its children. */
  deferred(part: DeferredPart): DocumentNode {
    return this.document(this.spine(part.queryPath, part.subselection ?? EMPTY), part.children);
  }

  /** Where each child applies in `data` (its parent's shaped answer), and `data` without the probes. */
  positions(
    data: Json | null | undefined,
    children: DeferredPart[],
  ): { data: Json | null | undefined; positions: ResponsePath[][] } {
    if (!data) return { data, positions: children.map(() => []) };
    const positions = children.map((child) => {
      const found: ResponsePath[] = [];
      this.walk(data, child.queryPath, 0, [], found);
      return found;
    });
    return { data: withoutTypeProbes(data) as Json, positions };
  }

  private document(selection: string, children: DeferredPart[]): DocumentNode {
    // Merged into the part's own selection: the shaping reads the subgraphs' data by response key, so a probe cannot be aliased.
    const probes = children
      .map((child) => this.spine(child.queryPath, EMPTY).slice(1, -1))
      .join(' ');
    const close = selection.lastIndexOf('}');
    const root = `${selection.slice(0, close)} ${probes} }`;
    return parse(`${this.header} ${root}\n${this.fragments.map((f) => print(f)).join('\n')}`);
  }

  /** A selection set from the root down `queryPath` (response keys, `... on T` narrowing) holding `inner`. */
  private spine(queryPath: string[], inner: string): string {
    const level = (i: number, scopes: SelectionSetNode[]): string => {
      if (i === queryPath.length) return inner;
      const segment = queryPath[i]!;
      if (segment.startsWith(ON_TYPE)) return `{ ${TYPE}: __typename ${segment} ${level(i + 1, scopes)} }`;
      const fields = findFields(scopes, segment, this.fragments);
      const field = fields[0];
      if (!field) throw new Error(`no field answers ${segment} on the path ${queryPath.join('.')}`);
      const args = field.arguments?.length ? `(${field.arguments.map((a) => print(a)).join(', ')})` : '';
      return `{ ${segment}: ${field.name.value}${args} ${level(
        i + 1,
        fields.flatMap((f) => (f.selectionSet ? [f.selectionSet] : [])),
      )} }`;
    };
    return level(0, [this.operation.selectionSet]);
  }

  private walk(value: unknown, queryPath: string[], i: number, at: ResponsePath, found: ResponsePath[]): void {
    if (value === null || value === undefined) return;
    if (Array.isArray(value))
      return value.forEach((item, index) => this.walk(item, queryPath, i, [...at, index], found));
    if (i === queryPath.length) return void found.push(at);
    const object = value as Json;
    const segment = queryPath[i]!;
    if (segment.startsWith(ON_TYPE)) {
      if (this.isOfType(object[TYPE], segment.slice(ON_TYPE.length))) this.walk(object, queryPath, i + 1, at, found);
      return;
    }
    this.walk(object[segment], queryPath, i + 1, [...at, segment], found);
  }

  private isOfType(typename: unknown, condition: string): boolean {
    if (typename === condition) return true;
    const abstract = this.schema.getType(condition);
    const concrete = typeof typename === 'string' ? this.schema.getType(typename) : undefined;
    return (
      !!abstract &&
      !!concrete &&
      isAbstractType(abstract) &&
      'isTypeOf' in concrete &&
      this.schema.isSubType(abstract, concrete)
    );
  }
}

/** The value at a concrete `path` of `data` (undefined when the path is not there), without the type probes. */
export function valueAt(data: unknown, path: ResponsePath): Json | null | undefined {
  let value = data;
  for (const segment of path) {
    if (value === null || value === undefined) return value as null | undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  if (value === null || value === undefined || typeof value !== 'object') return value as null | undefined;
  const { [TYPE]: _type, ...rest } = value as Json;
  return rest;
}

function withoutTypeProbes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTypeProbes);
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [key, item] of Object.entries(value)) if (key !== TYPE) out[key] = withoutTypeProbes(item);
  return out;
}

/** The fields whose response key is `key` in `scopes` (through inline fragments and spreads): a key may be selected in several places. */
function findFields(
  scopes: readonly SelectionSetNode[],
  key: string,
  fragments: readonly FragmentDefinitionNode[],
): FieldNode[] {
  return scopes.flatMap((scope) =>
    scope.selections.flatMap((selection): FieldNode[] => {
      if (selection.kind === Kind.FIELD)
        return (selection.alias?.value ?? selection.name.value) === key ? [selection] : [];
      const nested =
        selection.kind === Kind.INLINE_FRAGMENT
          ? selection.selectionSet
          : fragments.find((f) => f.name.value === selection.name.value)?.selectionSet;
      return nested ? findFields([nested], key, fragments) : [];
    }),
  );
}
