/**
 * Federation's `@authenticated` and `@requiresScopes`, read from a schema document into a lookup by
 * schema coordinate, and the rule for which of them guard a field. The gateway (before planning)
 * and the kit (inside every subgraph) decide with this one module, so both refuse the same things.
 */
import {
  getNamedType,
  isAbstractType,
  isObjectType,
  Kind,
  parse,
  type ConstDirectiveNode,
  type ConstValueNode,
  type DocumentNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';

export interface AccessRequirement {
  authenticated: boolean;
  /** `@requiresScopes`: the caller needs every scope of at least one inner list. Empty: no scope needed. */
  scopes: string[][];
}

/** Requirements by coordinate (`Type.field` or `Type`); every one listed must hold. */
export type AccessPolicy = ReadonlyMap<string, readonly AccessRequirement[]>;

/** The caller as authorization sees it: null when anonymous. */
export type AccessSubject = { scopes: string[] } | null;

// A subgraph may import the directives under their federation-qualified names.
const AUTHENTICATED = new Set(['authenticated', 'federation__authenticated']);
const REQUIRES_SCOPES = new Set(['requiresScopes', 'federation__requiresScopes']);

/** Every coordinate of `sdl` that carries either directive: types of every kind (object, interface, union, scalar, enum) and fields. */
export function readAccessPolicy(sdl: string | DocumentNode): AccessPolicy {
  const policy = new Map<string, AccessRequirement[]>();
  const record = (coordinate: string, directives: readonly ConstDirectiveNode[] | undefined) => {
    const requirement = requirementOf(directives ?? []);
    if (requirement) policy.set(coordinate, [...(policy.get(coordinate) ?? []), requirement]);
  };
  const document = typeof sdl === 'string' ? parse(sdl) : sdl;
  for (const definition of document.definitions) {
    switch (definition.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION:
        record(definition.name.value, definition.directives);
        for (const field of definition.fields ?? []) record(`${definition.name.value}.${field.name.value}`, field.directives);
        break;
      case Kind.UNION_TYPE_DEFINITION:
      case Kind.UNION_TYPE_EXTENSION:
      case Kind.SCALAR_TYPE_DEFINITION:
      case Kind.SCALAR_TYPE_EXTENSION:
      case Kind.ENUM_TYPE_DEFINITION:
      case Kind.ENUM_TYPE_EXTENSION:
        record(definition.name.value, definition.directives);
        break;
      default:
        break;
    }
  }
  return policy;
}

/**
 * What guards `parent.field`: the field's own directives, its parent type's, its return type's
 * (object, interface, union, scalar or enum); on an interface or union, the same of every possible
 * type (a caller may not read through an interface what it may not read on the implementation);
 * on an object, the field's directives on the interfaces it implements.
 */
export function requirementsOf(schema: GraphQLSchema, policy: AccessPolicy, parent: GraphQLCompositeType, field: GraphQLField<unknown, unknown>): AccessRequirement[] {
  if (policy.size === 0) return [];
  const found: AccessRequirement[] = [];
  const add = (coordinate: string) => found.push(...(policy.get(coordinate) ?? []));
  add(`${parent.name}.${field.name}`);
  add(parent.name);
  add(getNamedType(field.type).name);
  if (isAbstractType(parent)) {
    for (const type of schema.getPossibleTypes(parent)) {
      add(`${type.name}.${field.name}`);
      add(type.name);
    }
  } else if (isObjectType(parent)) {
    for (const implemented of parent.getInterfaces()) add(`${implemented.name}.${field.name}`);
  }
  return found;
}

/** Why a caller does not meet the requirements, or null when it meets every one. */
export function deny(requirements: readonly AccessRequirement[], subject: AccessSubject): string | null {
  for (const requirement of requirements) {
    if (requirement.authenticated && !subject) return 'requires an authenticated caller';
    if (requirement.scopes.length === 0) continue;
    const held = new Set(subject?.scopes ?? []);
    if (!requirement.scopes.some((all) => all.every((scope) => held.has(scope)))) {
      return `requires scope ${requirement.scopes.map((all) => all.join(' and ')).join(' or ')}`;
    }
  }
  return null;
}

function requirementOf(directives: readonly ConstDirectiveNode[]): AccessRequirement | null {
  let authenticated = false;
  const scopes: string[][] = [];
  for (const directive of directives) {
    if (AUTHENTICATED.has(directive.name.value)) authenticated = true;
    if (REQUIRES_SCOPES.has(directive.name.value)) {
      const argument = directive.arguments?.find((arg) => arg.name.value === 'scopes');
      if (argument) scopes.push(...stringLists(argument.value));
    }
  }
  return authenticated || scopes.length > 0 ? { authenticated: authenticated || scopes.length > 0, scopes } : null;
}

function stringLists(value: ConstValueNode): string[][] {
  if (value.kind !== Kind.LIST) return [];
  return value.values.map((inner) => (inner.kind === Kind.LIST ? inner.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : [])) : []));
}
