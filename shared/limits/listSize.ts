/**
 * How many items a list field is expected to return, for the cost estimate: from the field's
 * `@listSize` when the supergraph has one (its slicing arguments, else its assumed size), else from a
 * `first`/`last`/`limit` argument, else the schema default of one, else the default list size.
 */
import { Kind, type FieldNode, type GraphQLField, type ValueNode } from 'graphql';
import type { ListSizeDirective } from './costDirectives';

/** Arguments read as the number of items a list field returns when it has no `@listSize`, in this order. */
export const SIZE_ARGUMENTS = ['first', 'last', 'limit'];

export type Variables = Record<string, unknown>;

/** A `@listSize(requireOneSlicingArgument: true)` field given no slicing argument, or several. */
export interface SlicingViolation {
  coordinate: string;
  slicingArguments: string[];
  given: number;
}

export type ListSize = { size: number } | { violation: SlicingViolation };

export function listSize(
  node: FieldNode,
  definition: GraphQLField<unknown, unknown>,
  coordinate: string,
  directive: ListSizeDirective | undefined,
  variables: Variables,
  defaultSize: number,
): ListSize {
  if (!directive) return { size: sizeFromArguments(node, definition, SIZE_ARGUMENTS, variables) ?? defaultSize };
  const given = directive.slicingArguments.filter((name) => node.arguments?.some((argument) => argument.name.value === name));
  if (directive.requireOneSlicingArgument && given.length > 1) {
    return { violation: { coordinate, slicingArguments: directive.slicingArguments, given: given.length } };
  }
  // Several slicing arguments (allowed when not required to be one): the largest is the bound.
  const sliced = given.length > 0 ? maxOf(given.map((name) => sizeFromArguments(node, definition, [name], variables))) : sizeFromArguments(node, definition, directive.slicingArguments, variables);
  if (sliced !== undefined) return { size: sliced };
  if (directive.slicingArguments.length > 0 && directive.requireOneSlicingArgument) {
    return { violation: { coordinate, slicingArguments: directive.slicingArguments, given: 0 } };
  }
  return { size: directive.assumedSize ?? defaultSize };
}

/** The first of `names` the field is given (literal or variable), else the first with a schema default; never below 0. */
function sizeFromArguments(node: FieldNode, definition: GraphQLField<unknown, unknown>, names: string[], variables: Variables): number | undefined {
  for (const name of names) {
    const argument = node.arguments?.find((candidate) => candidate.name.value === name);
    const value = argument ? numberOf(argument.value, variables) : schemaDefault(definition, name);
    // A negative size would subtract from the total and hide an expensive sibling.
    if (value !== undefined) return Math.max(0, value);
  }
  return undefined;
}

function maxOf(values: Array<number | undefined>): number | undefined {
  const known = values.filter((value): value is number => value !== undefined);
  return known.length > 0 ? Math.max(...known) : undefined;
}

function schemaDefault(definition: GraphQLField<unknown, unknown>, name: string): number | undefined {
  const value = definition.args.find((argument) => argument.name === name)?.defaultValue;
  return typeof value === 'number' ? value : undefined;
}

function numberOf(value: ValueNode, variables: Variables): number | undefined {
  if (value.kind === Kind.INT || value.kind === Kind.FLOAT) return Number(value.value);
  if (value.kind === Kind.VARIABLE) {
    const given = variables[value.name.value];
    return typeof given === 'number' && Number.isFinite(given) ? given : undefined;
  }
  return undefined;
}
