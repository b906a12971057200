/**
 * Removes from an operation every field the caller may not see, before the query is planned, so
 * no subgraph is ever asked for it (as Apollo Router does for `@authenticated`/`@requiresScopes`).
 * Each removal remembers where its null goes in the response and why.
 */
import {
  getNamedType,
  getNullableType,
  isListType,
  isNonNullType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { deny, type AccessPolicy } from './policy';

export interface Removal {
  /** Response path of the removed field; `@` stands for every element of a list. */
  path: Array<string>;
  /** For each path segment, whether null may stand there (the nearest such ancestor takes the null). */
  nullable: boolean[];
  reason: string;
}

export interface Restricted {
  document: DocumentNode;
  removals: Removal[];
}

export function restrictDocument(schema: GraphQLSchema, document: DocumentNode, policy: AccessPolicy, user: { scopes: string[] } | null): Restricted {
  if (policy.size === 0) return { document, removals: [] };
  const removals: Removal[] = [];
  const typeInfo = new TypeInfo(schema);
  const path: string[] = [];
  const nullable: boolean[] = [];
  const pushed: number[] = [];
  const descend = (segment: string, canBeNull: boolean) => {
    path.push(segment);
    nullable.push(canBeNull);
  };
  // Named fragments are walked where they are defined, so a removal inside one is reported from
  // the fragment's type down; the field is removed all the same.
  const restricted = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: {
        enter(node: FieldNode) {
          const parent = typeInfo.getParentType();
          const fieldDef = typeInfo.getFieldDef();
          if (!parent || !fieldDef) return void pushed.push(0);
          const requirement = policy.get(`${parent.name}.${node.name.value}`) ?? policy.get(getNamedType(fieldDef.type).name);
          const reason = requirement ? deny(requirement, user) : null;
          const key = node.alias?.value ?? node.name.value;
          if (reason) {
            removals.push({ path: [...path, key], nullable: [...nullable, !isNonNullType(fieldDef.type)], reason });
            return null;
          }
          descend(key, !isNonNullType(fieldDef.type));
          const list = getNullableType(fieldDef.type);
          const isList = isListType(list);
          if (isList) descend('@', !isNonNullType(list.ofType));
          pushed.push(isList ? 2 : 1);
          return undefined;
        },
        leave() {
          for (let n = pushed.pop() ?? 0; n > 0; n--) {
            path.pop();
            nullable.pop();
          }
        },
      },
    }),
  );
  if (removals.length === 0) return { document, removals };
  return { document: keepSelectionSetsValid(restricted), removals };
}

/** Response key of the `__typename` that keeps an emptied selection set valid; removed from the response. */
export const PLACEHOLDER = '__trellisRemoved';

/** A selection set left empty by removals keeps an aliased `__typename`, so the document stays valid. */
function keepSelectionSetsValid(document: DocumentNode): DocumentNode {
  return visit(document, {
    SelectionSet: {
      leave(node: SelectionSetNode) {
        if (node.selections.length > 0) return undefined;
        const placeholder = { kind: Kind.FIELD, alias: { kind: Kind.NAME, value: PLACEHOLDER }, name: { kind: Kind.NAME, value: '__typename' } } as const;
        return { ...node, selections: [placeholder] };
      },
    },
  });
}
