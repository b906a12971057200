/**
 * Measures one operation for the limits: depth, aliases, root fields and estimated cost, with
 * fragments expanded. Pure: a schema, a document and variables in, numbers out.
 *
 * A small visitor of our own rather than `graphql-depth-limit` (unmaintained) or a cost library:
 * one pass computes all four numbers, each fragment is measured once (memoized, so a fragment
 * fan-out like A→B×2→C×2… costs linear time, not exponential), and a fragment spread that
 * re-enters a fragment being measured counts as nothing, so a cycle can never recurse forever
 * (graphql validation refuses cycles anyway, before we run).
 */
import {
  getNamedType,
  getNullableType,
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
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

export interface OperationMeasure {
  /** Levels of nested fields; `{ a { b } }` is 2. */
  depth: number;
  /** Aliased fields, counting a fragment's once per spread. */
  aliases: number;
  /** Fields selected at the operation's root. */
  rootFields: number;
  /** Estimated fields resolved: each field is 1, times the size of every list above it. */
  cost: number;
}

export interface MeasureOptions {
  /** Size assumed for a list field without a `first`, `last` or `limit` argument. */
  defaultListSize: number;
  variables?: Record<string, unknown>;
}

/** Arguments read as the number of items a list field returns, in this order. */
const SIZE_ARGUMENTS = ['first', 'last', 'limit'];

interface SelectionMeasure {
  depth: number;
  aliases: number;
  cost: number;
}

const NOTHING: SelectionMeasure = { depth: 0, aliases: 0, cost: 0 };

export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  options: MeasureOptions,
): OperationMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const variables = variablesWithDefaults(operation, options.variables ?? {});
  const measured = new Map<string, SelectionMeasure>();
  const inProgress = new Set<string>();

  const fragment = (name: string): SelectionMeasure => {
    const known = measured.get(name);
    if (known) return known;
    const definition = fragments.get(name);
    if (!definition || inProgress.has(name)) return NOTHING;
    inProgress.add(name);
    const type = schema.getType(definition.typeCondition.name.value);
    const result = selectionSet(definition.selectionSet, isCompositeType(type) ? type : undefined);
    inProgress.delete(name);
    measured.set(name, result);
    return result;
  };

  const field = (node: FieldNode, parent: GraphQLCompositeType | undefined): SelectionMeasure => {
    const definition = fieldDefinition(parent, node.name.value);
    const returns = definition?.type;
    const child = node.selectionSet
      ? selectionSet(node.selectionSet, returns && isCompositeType(getNamedType(returns)) ? (getNamedType(returns) as GraphQLCompositeType) : undefined)
      : NOTHING;
    const size = definition && isListType(getNullableType(definition.type)) ? listSize(node, definition, variables, options.defaultListSize) : 1;
    return {
      depth: 1 + child.depth,
      aliases: (node.alias ? 1 : 0) + child.aliases,
      cost: size * (1 + child.cost),
    };
  };

  const selectionSet = (set: SelectionSetNode, parent: GraphQLCompositeType | undefined): SelectionMeasure => {
    const total = { depth: 0, aliases: 0, cost: 0 };
    for (const selection of set.selections) {
      let part: SelectionMeasure;
      if (selection.kind === Kind.FIELD) {
        part = isIntrospection(selection) ? NOTHING : field(selection, parent);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        part = selectionSet(selection.selectionSet, type && isCompositeType(type) ? type : undefined);
      } else {
        part = fragment(selection.name.value);
      }
      total.depth = Math.max(total.depth, part.depth);
      total.aliases += part.aliases;
      total.cost += part.cost;
    }
    return total;
  };

  const root = schema.getRootType(operation.operation) ?? undefined;
  const whole = selectionSet(operation.selectionSet, root);
  return { ...whole, rootFields: countRootFields(operation.selectionSet, fragments, new Set()) };
}

/**
 * Introspection (`__schema`, `__type`) is answered by the gateway itself and never reaches a
 * subgraph; its standard query is deeper than any sane limit, so it is not measured (production
 * turns introspection off altogether). `__typename` is a plain leaf and not worth counting either.
 */
function isIntrospection(node: FieldNode): boolean {
  return node.name.value.startsWith('__');
}

function fieldDefinition(parent: GraphQLCompositeType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  return parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
}

function countRootFields(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, visiting: Set<string>): number {
  let count = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) count += isIntrospection(selection) ? 0 : 1;
    else if (selection.kind === Kind.INLINE_FRAGMENT) count += countRootFields(selection.selectionSet, fragments, visiting);
    else {
      const definition = fragments.get(selection.name.value);
      if (!definition || visiting.has(definition.name.value)) continue;
      visiting.add(definition.name.value);
      count += countRootFields(definition.selectionSet, fragments, visiting);
      visiting.delete(definition.name.value);
    }
  }
  return count;
}

/**
 * The list size a field asks for: its size argument (literal or variable), else that argument's
 * default in the schema, else the default list size.
 */
function listSize(node: FieldNode, definition: GraphQLField<unknown, unknown>, variables: Record<string, unknown>, defaultSize: number): number {
  for (const name of SIZE_ARGUMENTS) {
    const argument = node.arguments?.find((candidate) => candidate.name.value === name);
    const value = argument ? numberOf(argument.value, variables) : schemaDefault(definition, name);
    if (value !== undefined) return Math.max(0, value);
  }
  return defaultSize;
}

function schemaDefault(definition: GraphQLField<unknown, unknown>, name: string): number | undefined {
  const value = definition.args.find((argument) => argument.name === name)?.defaultValue;
  return typeof value === 'number' ? value : undefined;
}

function numberOf(value: ValueNode, variables: Record<string, unknown>): number | undefined {
  if (value.kind === Kind.INT || value.kind === Kind.FLOAT) return Number(value.value);
  if (value.kind === Kind.VARIABLE) {
    const given = variables[value.name.value];
    return typeof given === 'number' && Number.isFinite(given) ? given : undefined;
  }
  return undefined;
}

function variablesWithDefaults(operation: OperationDefinitionNode, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...given };
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const fallback = definition.defaultValue;
    if (out[name] === undefined && fallback && (fallback.kind === Kind.INT || fallback.kind === Kind.FLOAT)) out[name] = Number(fallback.value);
  }
  return out;
}
