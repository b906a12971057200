/**
 * Federation's demand-control directives (`@cost`, `@listSize`, https://specs.apollo.dev/cost/v0.1),
 * read from the supergraph into a lookup by schema coordinate. The gateway's API schema no longer
 * carries them, so they are read from the supergraph SDL each time it changes, as the access policy is.
 */
import { Kind, parse, type ConstDirectiveNode, type ConstValueNode, type DocumentNode } from 'graphql';

export interface ListSizeDirective {
  /** Size assumed when no slicing argument is given. */
  assumedSize?: number;
  /** Arguments whose value is the list's size (`first`, `limit`, ...). */
  slicingArguments: string[];
  /** Whether exactly one slicing argument must be given (the spec's default: true). */
  requireOneSlicingArgument: boolean;
}

export interface CostDirectives {
  /** `@cost(weight:)` by coordinate: `Type` (fields returning it), `Type.field`, or `Type.field(argument:)`. */
  weights: ReadonlyMap<string, number>;
  /** `@listSize` by `Type.field`. */
  listSizes: ReadonlyMap<string, ListSizeDirective>;
}

export const NO_COST_DIRECTIVES: CostDirectives = { weights: new Map(), listSizes: new Map() };

// A subgraph may use the federation-qualified names; composition keeps whichever the link imports.
const COST = new Set(['cost', 'federation__cost']);
const LIST_SIZE = new Set(['listSize', 'federation__listSize']);

export function readCostDirectives(sdl: string | DocumentNode): CostDirectives {
  const weights = new Map<string, number>();
  const listSizes = new Map<string, ListSizeDirective>();
  const readWeight = (coordinate: string, directives: readonly ConstDirectiveNode[] | undefined) => {
    const cost = directives?.find((directive) => COST.has(directive.name.value));
    const weight = cost && intArgument(cost, 'weight');
    if (weight !== undefined) weights.set(coordinate, weight);
  };
  const document = typeof sdl === 'string' ? parse(sdl) : sdl;
  for (const definition of document.definitions) {
    switch (definition.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION:
        readWeight(definition.name.value, definition.directives);
        for (const field of definition.fields ?? []) {
          const coordinate = `${definition.name.value}.${field.name.value}`;
          readWeight(coordinate, field.directives);
          for (const argument of field.arguments ?? []) readWeight(`${coordinate}(${argument.name.value}:)`, argument.directives);
          const listSize = field.directives?.find((directive) => LIST_SIZE.has(directive.name.value));
          if (listSize) listSizes.set(coordinate, readListSize(listSize));
        }
        break;
      case Kind.SCALAR_TYPE_DEFINITION:
      case Kind.SCALAR_TYPE_EXTENSION:
      case Kind.ENUM_TYPE_DEFINITION:
      case Kind.ENUM_TYPE_EXTENSION:
        readWeight(definition.name.value, definition.directives);
        break;
      // Stryker disable next-line ConditionalExpression: other definitions carry no cost directive; removing the case changes nothing
      default:
        break;
    }
  }
  return { weights, listSizes };
}

function readListSize(directive: ConstDirectiveNode): ListSizeDirective {
  const slicing = argument(directive, 'slicingArguments');
  const requireOne = argument(directive, 'requireOneSlicingArgument');
  return {
    assumedSize: intArgument(directive, 'assumedSize'),
    slicingArguments: slicing?.kind === Kind.LIST ? slicing.values.flatMap((value) => (value.kind === Kind.STRING ? [value.value] : [])) : [],
    requireOneSlicingArgument: requireOne?.kind === Kind.BOOLEAN ? requireOne.value : true,
  };
}

function argument(directive: ConstDirectiveNode, name: string): ConstValueNode | undefined {
  return directive.arguments?.find((candidate) => candidate.name.value === name)?.value;
}

function intArgument(directive: ConstDirectiveNode, name: string): number | undefined {
  const value = argument(directive, name);
  return value?.kind === Kind.INT ? Number(value.value) : undefined;
}
