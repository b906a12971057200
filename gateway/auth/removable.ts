/**
 * Whether field authorization can remove anything from an operation for one caller, decided once
 * per fragment (whatever the number of its spreads), without inlining anything: a fragment's
 * fields are judged on its type condition, where they sit once inlined, so the answer does not
 * depend on where it is spread. A document with nothing to remove is never inlined, and one with
 * something to remove inlines only the fragments that hold it, so a fragment fan-out
 * (F0 spreads F1 twice, F1 spreads F2 twice, …) costs linear time here, not 2^n.
 */
import {
  getNamedType,
  isCompositeType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type DocumentNode,
  type FieldNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { deny, requirementsOf, type AccessPolicy, type AccessSubject } from '@trellis/kit/internal';
import { fragmentsOf, perFragment } from './perFragment';

export interface Removable {
  /** Whether any operation of the document holds a field the caller may not see, through its fragments too. */
  readonly anywhere: boolean;
  /** Whether the named fragment (or one it spreads) holds one; memoized. */
  fragment(name: string): boolean;
}

export function removableFor(schema: GraphQLSchema, document: DocumentNode, policy: AccessPolicy, subject: AccessSubject): Removable {
  const fragment = perFragment(fragmentsOf(document.definitions), (definition) => selectionSet(definition.selectionSet, compositeNamed(definition.typeCondition.name.value)), false);

  const selectionSet = (set: SelectionSetNode, parent: GraphQLCompositeType | undefined): boolean =>
    set.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return field(selection, parent);
      if (selection.kind === Kind.FRAGMENT_SPREAD) return fragment(selection.name.value);
      return selectionSet(selection.selectionSet, selection.typeCondition ? compositeNamed(selection.typeCondition.name.value) : parent);
    });

  /** A denied field is removed whole; an allowed one may hold denied fields below. */
  const field = (node: FieldNode, parent: GraphQLCompositeType | undefined): boolean => {
    const definition = parent && fieldDefinition(parent, node.name.value);
    // Not a field of the schema: validation refuses it before this runs; here it only must not throw.
    if (!definition) return false;
    if (deny(requirementsOf(schema, policy, parent!, definition), subject)) return true;
    const named = getNamedType(definition.type);
    return node.selectionSet !== undefined && selectionSet(node.selectionSet, isCompositeType(named) ? named : undefined);
  };

  // Validation has checked every type condition names a composite type; any other type has no fields here.
  const compositeNamed = (name: string) => schema.getType(name) as GraphQLCompositeType | undefined;

  // Only operations are answered: a fragment counts where it is spread, never on its own.
  const anywhere = document.definitions.some((definition) => definition.kind === Kind.OPERATION_DEFINITION && selectionSet(definition.selectionSet, schema.getRootType(definition.operation) ?? undefined));
  return { anywhere, fragment };
}

/** The field's definition as graphql's TypeInfo finds it in a valid document (meta fields included), so both judge the same field. */
function fieldDefinition(parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  // Valid only at the query root.
  if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
  if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  // A union (or a type condition that names no composite type) has no fields but __typename.
  return 'getFields' in parent ? parent.getFields()[name] : undefined;
}
