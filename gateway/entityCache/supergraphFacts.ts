/**
 * What the entity cache reads from the supergraph: each subgraph's `@key` fields per type (so an
 * entry is filed under the entity's key alone, the way a change names it), and which scopes decide
 * what a type's fields show (`@authenticated`/`@requiresScopes`), so callers who could see
 * different data never share an entry.
 */
import { Kind, parse, type ConstDirectiveNode, type DocumentNode, type SelectionSetNode } from 'graphql';
import { readAccessPolicy } from '@trellis/kit/internal';

/** A key field set as a tree: `id` is `{ id: true }`, `id org { id }` is `{ id: true, org: { id: true } }`. */
export type KeyShape = { [field: string]: true | KeyShape };

interface AccessDeciders {
  authenticated: boolean;
  scopes: Set<string>;
}

export class SupergraphFacts {
  /** `subgraph\ntype` -> its key field sets, in declaration order. */
  private readonly keys = new Map<string, KeyShape[]>();
  /** type -> its key field sets in every subgraph (an entity anywhere is an entity a change may name). */
  private readonly anyKeys = new Map<string, KeyShape[]>();
  private readonly access = new Map<string, AccessDeciders>();
  /** Every scope any guarded field names (what decides a root answer, which may reach any type). */
  private readonly namedScopes = new Set<string>();

  static read(sdl: string): SupergraphFacts {
    return new SupergraphFacts(parse(sdl));
  }

  static readonly EMPTY = new SupergraphFacts({ kind: Kind.DOCUMENT, definitions: [] });

  private constructor(document: DocumentNode) {
    const graphs = graphNames(document);
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
      for (const directive of definition.directives ?? []) {
        if (directive.name.value !== 'join__type') continue;
        const graph = graphs.get(stringArgument(directive, 'graph') ?? '');
        const fields = stringArgument(directive, 'key');
        if (!graph || !fields) continue;
        const id = `${graph}\n${definition.name.value}`;
        const shape = keyShapeOf(fields);
        this.keys.set(id, [...(this.keys.get(id) ?? []), shape]);
        this.anyKeys.set(definition.name.value, [...(this.anyKeys.get(definition.name.value) ?? []), shape]);
      }
    }
    for (const [coordinate, requirements] of readAccessPolicy(document)) {
      const type = coordinate.split('.')[0];
      const deciders = this.access.get(type) ?? { authenticated: false, scopes: new Set<string>() };
      for (const requirement of requirements) {
        deciders.authenticated ||= requirement.authenticated;
        for (const all of requirement.scopes) for (const scope of all) deciders.scopes.add(scope);
      }
      this.access.set(type, deciders);
      for (const scope of deciders.scopes) this.namedScopes.add(scope);
    }
  }

  /**
   * The entity's key in a representation sent to `subgraph` (the first of its key field sets the
   * representation carries), and what else it carries (`@requires` fields), which changes the answer.
   */
  keyOf(subgraph: string, type: string, representation: Record<string, unknown>): { key: Record<string, unknown>; rest: Record<string, unknown> } | undefined {
    for (const shape of this.keys.get(`${subgraph}\n${type}`) ?? []) {
      const key = pick(representation, shape);
      if (!key) continue;
      const rest: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(representation)) if (name !== '__typename' && !(name in shape)) rest[name] = value;
      return { key, rest };
    }
    return undefined;
  }

  /** Whether `type` is an entity in any subgraph (a change may name it). */
  isEntity(type: string): boolean {
    return this.anyKeys.has(type);
  }

  /** The entity's key in an answer's object of `type`, by any subgraph's key it carries; undefined when it carries none. */
  anyKeyOf(type: string, value: Record<string, unknown>): Record<string, unknown> | undefined {
    for (const shape of this.anyKeys.get(type) ?? []) {
      const key = pick(value, shape);
      if (key) return key;
    }
    return undefined;
  }

  /** What about the caller decides what any guarded field shows (a root answer may reach any type): sign-in and every scope the supergraph names. */
  globalAccessVariant(user: { scopes: string[] } | null | undefined): string {
    if (this.access.size === 0) return '';
    const held = (user?.scopes ?? []).filter((scope) => this.namedScopes.has(scope)).sort();
    return `${user ? 'signed-in' : 'anonymous'}:${held.join(' ')}`;
  }

  /**
   * What about the caller decides what `type`'s fields show: whether it is signed in, and which of
   * the scopes the type's directives name it holds. Empty when nothing on the type is guarded.
   */
  accessVariant(type: string, user: { scopes: string[] } | null | undefined): string {
    const deciders = this.access.get(type);
    if (!deciders) return '';
    const held = (user?.scopes ?? []).filter((scope) => deciders.scopes.has(scope)).sort();
    return `${user ? 'signed-in' : 'anonymous'}:${held.join(' ')}`;
  }
}

function graphNames(document: DocumentNode): Map<string, string> {
  const names = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const directive = value.directives?.find((candidate) => candidate.name.value === 'join__graph');
      const name = directive && stringArgument(directive, 'name');
      if (name) names.set(value.name.value, name);
    }
  }
  return names;
}

function stringArgument(directive: ConstDirectiveNode, name: string): string | undefined {
  const argument = directive.arguments?.find((candidate) => candidate.name.value === name);
  if (!argument) return undefined;
  if (argument.value.kind === Kind.STRING || argument.value.kind === Kind.ENUM) return argument.value.value;
  return undefined;
}

function keyShapeOf(fields: string): KeyShape {
  const document = parse(`{${fields}}`);
  const operation = document.definitions[0];
  return operation.kind === Kind.OPERATION_DEFINITION ? shapeOf(operation.selectionSet) : {};
}

function shapeOf(selectionSet: SelectionSetNode): KeyShape {
  const shape: KeyShape = {};
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) shape[selection.name.value] = selection.selectionSet ? shapeOf(selection.selectionSet) : true;
  }
  return shape;
}

/** The representation's values for `shape`, or undefined when it lacks any of them. */
function pick(value: Record<string, unknown>, shape: KeyShape): Record<string, unknown> | undefined {
  const picked: Record<string, unknown> = {};
  for (const [field, inner] of Object.entries(shape)) {
    const found = value[field];
    if (found === undefined) return undefined;
    if (inner === true) picked[field] = found;
    else {
      if (found === null || typeof found !== 'object' || Array.isArray(found)) return undefined;
      const nested = pick(found as Record<string, unknown>, inner);
      if (!nested) return undefined;
      picked[field] = nested;
    }
  }
  return picked;
}
