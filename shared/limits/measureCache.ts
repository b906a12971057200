/**
 * The limits' measure of an operation, kept with its parsed document so that a document the
 * server has seen is not walked again on every request.
 *
 * Apollo Server (and the WebSocket/SSE path's prepared documents) hand over the same DocumentNode
 * object for the same query text, so the cache is a WeakMap on it: an entry lives as long as the
 * server keeps the document, and goes with it. Every number of the measure depends only on the
 * document, the schema and the cost directives, except the sizes of lists whose size argument
 * (`first`, `last`, `limit`, or a `@listSize` slicing argument) is a variable: those variables'
 * values are part of the key, and an operation sent with too many different ones is measured
 * afresh each time rather than kept.
 */
import { Kind, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { NO_COST_DIRECTIVES, type CostDirectives } from './costDirectives';
import { SIZE_ARGUMENTS } from './listSize';
import { measureOperation, type MeasureOptions, type OperationMeasure } from './measure';

/** Distinct size-variable values kept per operation; more are measured without being kept. */
export const MAX_KEPT_SIZES = 32;

interface Entry {
  schema: GraphQLSchema;
  costDirectives: CostDirectives;
  defaultListSize: number;
  /** Variables whose value sets a list's size, in a fixed order. */
  sizeVariables: string[];
  bySizes: Map<string, OperationMeasure>;
}

export type Measure = typeof measureOperation;

export class MeasureCache {
  private readonly documents = new WeakMap<DocumentNode, Map<OperationDefinitionNode, Entry>>();

  constructor(private readonly measure: Measure = measureOperation) {}

  measureOf(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, options: MeasureOptions): OperationMeasure {
    const costDirectives = options.costDirectives ?? NO_COST_DIRECTIVES;
    let operations = this.documents.get(document);
    if (!operations) this.documents.set(document, (operations = new Map()));
    let entry = operations.get(operation);
    if (!entry || entry.schema !== schema || entry.costDirectives !== costDirectives || entry.defaultListSize !== options.defaultListSize) {
      entry = { schema, costDirectives, defaultListSize: options.defaultListSize, sizeVariables: sizeVariablesOf(document, costDirectives), bySizes: new Map() };
      operations.set(operation, entry);
    }
    const key = sizesKey(entry.sizeVariables, options.variables);
    const kept = entry.bySizes.get(key);
    if (kept) return kept;
    const measured = this.measure(schema, document, operation, options);
    if (entry.bySizes.size < MAX_KEPT_SIZES) entry.bySizes.set(key, measured);
    return measured;
  }
}

/**
 * The values that can change a list size, as the measure reads them: a finite number is a size, a
 * missing value takes the variable's default, and anything else gives no size.
 */
function sizesKey(names: string[], variables: Record<string, unknown> | undefined): string {
  // Stryker disable next-line StringLiteral: any common prefix gives the same keys
  let key = '';
  for (const name of names) {
    const value = variables?.[name];
    // Stryker disable next-line StringLiteral,EqualityOperator: any three distinct tokens that no number prints as do
    key += (typeof value === 'number' ? String(value) : value === undefined ? 'default' : 'none') + ',';
  }
  return key;
}

/** Every variable given as a size argument anywhere in the document (fragments included). */
function sizeVariablesOf(document: DocumentNode, costDirectives: CostDirectives): string[] {
  const sizeArguments = new Set(SIZE_ARGUMENTS);
  for (const directive of costDirectives.listSizes.values()) for (const name of directive.slicingArguments) sizeArguments.add(name);
  const found = new Set<string>();
  const walk = (set: SelectionSetNode): void => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        for (const argument of selection.arguments ?? []) {
          if (argument.value.kind === Kind.VARIABLE && sizeArguments.has(argument.name.value)) found.add(argument.value.name.value);
        }
      }
      if (selection.kind !== Kind.FRAGMENT_SPREAD && selection.selectionSet) walk(selection.selectionSet);
    }
  };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) walk(definition.selectionSet);
  }
  // In the document's order: the same for every request with this document.
  return [...found];
}
