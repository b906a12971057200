/**
 * Reads federation's `@authenticated` and `@requiresScopes` from the composed supergraph into a
 * lookup by schema coordinate (`Type.field` or `Type`), refreshed with every new supergraph.
 */
import { Kind, parse, visit, type ConstDirectiveNode, type ConstValueNode } from 'graphql';

export interface AccessRequirement {
  authenticated: boolean;
  /** Alternatives: the caller needs every scope of at least one inner list. Empty: no scope needed. */
  scopes: string[][];
}

export type AccessPolicy = ReadonlyMap<string, AccessRequirement>;

export function readAccessPolicy(supergraphSdl: string): AccessPolicy {
  const policy = new Map<string, AccessRequirement>();
  const record = (coordinate: string, directives: readonly ConstDirectiveNode[] | undefined) => {
    const requirement = requirementOf(directives ?? []);
    if (requirement) policy.set(coordinate, requirement);
  };
  visit(parse(supergraphSdl), {
    ObjectTypeDefinition: (node) => {
      record(node.name.value, node.directives);
      for (const field of node.fields ?? []) record(`${node.name.value}.${field.name.value}`, field.directives);
    },
    InterfaceTypeDefinition: (node) => {
      record(node.name.value, node.directives);
      for (const field of node.fields ?? []) record(`${node.name.value}.${field.name.value}`, field.directives);
    },
  });
  return policy;
}

function requirementOf(directives: readonly ConstDirectiveNode[]): AccessRequirement | null {
  let authenticated = false;
  const scopes: string[][] = [];
  for (const directive of directives) {
    if (directive.name.value === 'authenticated') authenticated = true;
    if (directive.name.value === 'requiresScopes') {
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

/** Whether a caller with `scopes` (null: anonymous) meets the requirement; the reason when not. */
export function deny(requirement: AccessRequirement, user: { scopes: string[] } | null): string | null {
  if (requirement.authenticated && !user) return 'requires an authenticated caller';
  if (requirement.scopes.length === 0) return null;
  const held = new Set(user?.scopes ?? []);
  if (requirement.scopes.some((all) => all.every((scope) => held.has(scope)))) return null;
  return `requires scope ${requirement.scopes.map((all) => all.join(' and ')).join(' or ')}`;
}
