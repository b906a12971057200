/**
 * A root fetch (a subgraph query that is not `_entities`) may be cached when its subgraph declares
 * a maxAge for it; it is then dropped with any entity it holds. This finds those entities: the
 * answer walked along the query's selections with the supergraph's types, each object of an entity
 * type giving its key. An entity object without its key, or a field the schema does not know,
 * makes the answer uncacheable (undefined): it could not be dropped when that entity changes.
 */
import {
  getNamedType,
  isAbstractType,
  isCompositeType,
  isObjectType,
  Kind,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { entityChangeKey } from '@trellis/kit/internal/events';
import type { SupergraphFacts } from './supergraphFacts';

export interface RootOperation {
  operation: OperationDefinitionNode;
  fragments: Map<string, FragmentDefinitionNode>;
}

/** `Type:{key}` of every entity in `data` (one each), or undefined when one cannot be named. */
export function entitiesIn(schema: GraphQLSchema, facts: SupergraphFacts, root: RootOperation, data: unknown): Map<string, string> | undefined {
  const found = new Map<string, string>();
  const queryType = schema.getQueryType();
  if (!queryType || !isObject(data)) return undefined;

  const visitValue = (type: GraphQLCompositeType, selectionSet: SelectionSetNode, value: unknown): boolean => {
    if (value === null || value === undefined) return true;
    if (Array.isArray(value)) return value.every((item) => visitValue(type, selectionSet, item));
    return isObject(value) && visitObject(type, selectionSet, value);
  };

  const visitObject = (type: GraphQLCompositeType, selectionSet: SelectionSetNode, value: Record<string, unknown>): boolean => {
    const concrete = isObjectType(type) ? type : schema.getType(String(value.__typename));
    if (!isObjectType(concrete)) return false;
    if (facts.isEntity(concrete.name)) {
      const key = facts.anyKeyOf(concrete.name, value);
      if (!key) return false;
      found.set(entityChangeKey({ type: concrete.name, key }), concrete.name);
    }
    return visitSelections(concrete, selectionSet, value);
  };

  const visitSelections = (type: GraphQLObjectType, selectionSet: SelectionSetNode, value: Record<string, unknown>): boolean => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === '__typename') continue;
        const field = type.getFields()[selection.name.value];
        if (!field) return false;
        const named = getNamedType(field.type);
        if (isCompositeType(named) && selection.selectionSet && !visitValue(named, selection.selectionSet, value[selection.alias?.value ?? selection.name.value])) return false;
        continue;
      }
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : root.fragments.get(selection.name.value);
      if (!fragment) return false;
      if (fragment.typeCondition && !applies(schema, fragment.typeCondition.name.value, type)) continue;
      if (!visitSelections(type, fragment.selectionSet, value)) return false;
    }
    return true;
  };

  return visitSelections(queryType, root.operation.selectionSet, data) ? found : undefined;
}

function applies(schema: GraphQLSchema, condition: string, type: GraphQLObjectType): boolean {
  if (condition === type.name) return true;
  const conditionType = schema.getType(condition);
  return isAbstractType(conditionType) && schema.isSubType(conditionType, type);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
