/**
 * Measures one operation for the limits: depth, aliases, root fields, directives per field,
 * introspection depth and estimated cost, with fragments expanded. Pure: a schema, a document and
 * variables in, numbers out.
 *
 * A small visitor of our own rather than `graphql-depth-limit` (unmaintained) or a cost library:
 * one pass computes the numbers, each fragment is measured once (memoized, so a fragment fan-out
 * like A→B×2→C×2… costs linear time, not exponential), and a fragment spread that re-enters a
 * fragment being measured counts as nothing, so a cycle can never recurse forever (graphql
 * validation refuses cycles anyway, before we run).
 */
import {
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { NO_COST_DIRECTIVES, type CostDirectives } from './costDirectives';
import { introspectionListDepth } from './introspectionDepth';
import { listSize, type SlicingViolation, type Variables } from './listSize';
import { variablesWithDefaults } from './variables';

export type { SlicingViolation } from './listSize';

export interface OperationMeasure {
  /** Levels of nested fields; `{ a { b } }` is 2. */
  depth: number;
  /** Aliased fields, counting a fragment's once per spread. */
  aliases: number;
  /** Fields selected at the operation's root. */
  rootFields: number;
  /** Most directives on one field, inline fragment or fragment spread. */
  directives: number;
  /**
   * Fields once every fragment is inlined where it is spread, `__typename` and introspection
   * included: the work of every step that expands fragments (authorization, the query planner),
   * which a fragment fan-out makes exponential while its cost may stay small.
   */
  fields: number;
  /** Nesting of introspection lists (`fields`, `interfaces`, `possibleTypes`, `inputFields`). */
  introspectionDepth: number;
  /**
   * Estimated fields resolved: each field is its `@cost` weight (else its type's, else 1), times
   * the size of every list above it; of type conditions that cannot both hold, the costliest.
   */
  cost: number;
  /** The first `@listSize(requireOneSlicingArgument: true)` field not given exactly one slicing argument. */
  slicingViolation?: SlicingViolation;
}

export interface MeasureOptions {
  /** Size assumed for a list field without `@listSize` and without a `first`, `last` or `limit` argument. */
  defaultListSize: number;
  variables?: Record<string, unknown>;
  /** `@cost` and `@listSize` of the supergraph. */
  costDirectives?: CostDirectives;
}

interface SelectionMeasure {
  depth: number;
  aliases: number;
  cost: number;
  fields: number;
}

const NOTHING: SelectionMeasure = { depth: 0, aliases: 0, cost: 0, fields: 0 };

/** One selection's measure and the concrete types it applies to (undefined: every type the parent may be). */
interface Part {
  measure: SelectionMeasure;
  onTypes?: ReadonlySet<string>;
}

export function measureOperation(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, options: MeasureOptions): OperationMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const variables: Variables = variablesWithDefaults(operation, options.variables ?? {});
  const { weights, listSizes } = options.costDirectives ?? NO_COST_DIRECTIVES;
  const measured = new Map<string, SelectionMeasure>();
  const inProgress = new Set<string>();
  let slicingViolation: SlicingViolation | undefined;

  const fragment = (name: string): SelectionMeasure => {
    const known = measured.get(name);
    if (known) return known;
    const definition = fragments.get(name);
    if (!definition || inProgress.has(name)) return NOTHING;
    inProgress.add(name);
    const result = selectionSet(definition.selectionSet, compositeNamed(definition.typeCondition.name.value));
    // Stryker disable next-line BlockStatement,CallExpression: unobservable, the memo below answers every later spread first
    inProgress.delete(name);
    measured.set(name, result);
    return result;
  };

  const field = (node: FieldNode, parent: GraphQLCompositeType | undefined): SelectionMeasure => {
    const definition = fieldDefinition(parent, node.name.value);
    const named = definition && getNamedType(definition.type);
    const child = node.selectionSet ? selectionSet(node.selectionSet, named && isCompositeType(named) ? named : undefined) : NOTHING;
    const fields = 1 + child.fields;
    if (!parent || !definition || !named) return { depth: 1 + child.depth, aliases: (node.alias ? 1 : 0) + child.aliases, cost: 1 + child.cost, fields };
    const coordinate = `${parent.name}.${definition.name}`;
    let size = 1;
    if (isListType(getNullableType(definition.type))) {
      const sized = listSize(node, definition, coordinate, listSizes.get(coordinate), variables, options.defaultListSize);
      if ('violation' in sized) slicingViolation ??= sized.violation;
      else size = sized.size;
    }
    const weight = weights.get(coordinate) ?? weights.get(named.name) ?? 1;
    const argumentWeight = (node.arguments ?? []).reduce((sum, argument) => sum + (weights.get(`${coordinate}(${argument.name.value}:)`) ?? 0), 0);
    return {
      depth: 1 + child.depth,
      aliases: (node.alias ? 1 : 0) + child.aliases,
      // A negative weight may lower a field's cost, never below nothing (it would hide a sibling).
      cost: Math.max(0, size * (weight + child.cost) + argumentWeight),
      fields,
    };
  };

  const part = (selection: SelectionNode, parent: GraphQLCompositeType | undefined): Part => {
    if (selection.kind === Kind.FIELD) return { measure: isIntrospection(selection) ? introspectionField(selection) : field(selection, parent) };
    const condition = selection.kind === Kind.INLINE_FRAGMENT ? selection.typeCondition?.name.value : fragments.get(selection.name.value)?.typeCondition.name.value;
    const type = condition ? compositeNamed(condition) : parent;
    const measure = selection.kind === Kind.INLINE_FRAGMENT ? selectionSet(selection.selectionSet, type) : fragment(selection.name.value);
    // Stryker disable next-line ConditionalExpression: a condition on the parent itself narrows to all its concrete types, the same as no narrowing
    return { measure, onTypes: type && type !== parent ? concreteTypes(type) : undefined };
  };

  /** Introspection counts only as fields (see `isIntrospection`). */
  const introspectionField = (node: FieldNode): SelectionMeasure => ({ ...NOTHING, fields: 1 + (node.selectionSet ? selectionSet(node.selectionSet, undefined).fields : 0) });

  const selectionSet = (set: SelectionSetNode, parent: GraphQLCompositeType | undefined): SelectionMeasure => {
    const parts = set.selections.map((selection) => part(selection, parent));
    return {
      depth: Math.max(0, ...parts.map(({ measure }) => measure.depth)),
      aliases: parts.reduce((sum, { measure }) => sum + measure.aliases, 0),
      cost: costOfParts(parts, parent),
      fields: parts.reduce((sum, { measure }) => sum + measure.fields, 0),
    };
  };

  /**
   * An object is of one concrete type, so of type conditions naming different object types at most
   * one holds: the cost is that of the costliest concrete type, each counting what applies to it.
   */
  const costOfParts = (parts: Part[], parent: GraphQLCompositeType | undefined): number => {
    const everywhere = parts.filter((candidate) => !candidate.onTypes).reduce((sum, { measure }) => sum + measure.cost, 0);
    const narrowed = parts.filter((candidate) => candidate.onTypes);
    // Stryker disable next-line ConditionalExpression: a shortcut, the loop below adds nothing when nothing is narrowed
    if (narrowed.length === 0) return everywhere;
    const candidates = parent ? concreteTypes(parent) : new Set(narrowed.flatMap((candidate) => [...candidate.onTypes!]));
    let costliest = 0;
    for (const type of candidates) {
      const cost = narrowed.filter((candidate) => candidate.onTypes!.has(type)).reduce((sum, { measure }) => sum + measure.cost, 0);
      costliest = Math.max(costliest, cost);
    }
    return everywhere + costliest;
  };

  const compositeNamed = (name: string): GraphQLCompositeType | undefined => {
    const type = schema.getType(name);
    return type && isCompositeType(type) ? type : undefined;
  };

  const concreteTypes = (type: GraphQLCompositeType): ReadonlySet<string> =>
    new Set(isAbstractType(type) ? schema.getPossibleTypes(type).map((possible) => possible.name) : [type.name]);

  const root = schema.getRootType(operation.operation) ?? undefined;
  const whole = selectionSet(operation.selectionSet, root);
  return {
    ...whole,
    rootFields: countRootFields(operation.selectionSet, fragments, new Set()),
    directives: mostDirectives(operation.selectionSet, fragments),
    introspectionDepth: introspectionListDepth(operation, fragments),
    ...(slicingViolation ? { slicingViolation } : {}),
  };
}

/**
 * Introspection (`__schema`, `__type`) is answered by the gateway itself and never reaches a
 * subgraph; its standard query is deeper than any sane limit, so it is measured by its own limit
 * (introspection depth) instead. `__typename` is a plain leaf and not worth counting either.
 */
function isIntrospection(node: FieldNode): boolean {
  return node.name.value.startsWith('__');
}

function fieldDefinition(parent: GraphQLCompositeType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  return parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
}

/** Fields at the root; a fragment spread twice merges into the same response fields, so it counts once. */
function countRootFields(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, seen: Set<string>): number {
  let count = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) count += isIntrospection(selection) ? 0 : 1;
    else if (selection.kind === Kind.INLINE_FRAGMENT) count += countRootFields(selection.selectionSet, fragments, seen);
    else {
      const definition = fragments.get(selection.name.value);
      if (!definition || seen.has(definition.name.value)) continue;
      seen.add(definition.name.value);
      count += countRootFields(definition.selectionSet, fragments, seen);
    }
  }
  return count;
}

/** The most directives on any one selection of the operation or of a fragment it spreads. */
function mostDirectives(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>): number {
  const seen = new Set<string>();
  const walk = (current: SelectionSetNode): number => {
    let most = 0;
    for (const selection of current.selections) {
      most = Math.max(most, selection.directives?.length ?? 0);
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const definition = fragments.get(selection.name.value);
        if (!definition || seen.has(selection.name.value)) continue;
        seen.add(selection.name.value);
        most = Math.max(most, walk(definition.selectionSet));
      } else if (selection.selectionSet) {
        most = Math.max(most, walk(selection.selectionSet));
      }
    }
    return most;
  };
  return walk(set);
}
