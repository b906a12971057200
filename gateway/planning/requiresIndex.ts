/**
 * Every `@requires` of the supergraph, read from its `join__field(requires:)` applications: which
 * field of which type, in which subgraph, needs which selection. Both argument-conflict fixes
 * start here, so each runs only where such a conflict can exist.
 */
import { Kind, parse, print, type ConstDirectiveNode, type DocumentNode, type FieldNode, type SelectionSetNode } from 'graphql';

export interface RequiredField {
  /** The field the `@requires` selects (e.g. `price`), with its arguments printed (`(currency: USD)`, or ''). */
  name: string;
  printedArguments: string;
}

export interface Requirement {
  subgraph: string;
  typeName: string;
  /** The field carrying the `@requires`. */
  field: string;
  /** The top-level fields of its selection. */
  selects: RequiredField[];
}

/** Where a type's fields can be fetched: per field the subgraphs resolving it, per subgraph its resolvable keys. */
export interface Ownership {
  /** `Type.field` → subgraphs that resolve it (not `@external` there). */
  fields: Map<string, string[]>;
  /** `Type` → subgraph → its resolvable keys' field sets. */
  keys: Map<string, Map<string, string[]>>;
}

export class RequiresIndex {
  private readonly byType = new Map<string, Requirement[]>();

  constructor(
    requirements: Requirement[],
    readonly ownership: Ownership = { fields: new Map(), keys: new Map() },
  ) {
    for (const requirement of requirements) this.byType.set(requirement.typeName, [...(this.byType.get(requirement.typeName) ?? []), requirement]);
  }

  static fromSupergraph(sdl: string | DocumentNode): RequiresIndex {
    const document = typeof sdl === 'string' ? parse(sdl) : sdl;
    const graphs = graphNames(document);
    const requirements: Requirement[] = [];
    const ownership: Ownership = { fields: new Map(), keys: new Map() };
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION && definition.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
      const typeName = definition.name.value;
      const typeGraphs: string[] = [];
      const keys = new Map<string, string[]>();
      for (const directive of definition.directives ?? []) {
        const graph = directive.name.value === 'join__type' ? enumArgument(directive, 'graph') : undefined;
        if (!graph) continue;
        const subgraph = graphs.get(graph) ?? graph;
        typeGraphs.push(subgraph);
        const key = stringArgument(directive, 'key');
        const resolvable = directive.arguments?.find((a) => a.name.value === 'resolvable')?.value;
        if (key && !(resolvable?.kind === Kind.BOOLEAN && !resolvable.value)) keys.set(subgraph, [...(keys.get(subgraph) ?? []), key]);
      }
      ownership.keys.set(typeName, keys);
      for (const field of definition.fields ?? []) {
        const joins = (field.directives ?? []).filter((d) => d.name.value === 'join__field');
        const owners = joins.length === 0 ? typeGraphs : [];
        for (const directive of joins) {
          const graph = enumArgument(directive, 'graph');
          if (!graph) continue;
          const subgraph = graphs.get(graph) ?? graph;
          const external = directive.arguments?.find((a) => a.name.value === 'external')?.value;
          if (!(external?.kind === Kind.BOOLEAN && external.value)) owners.push(subgraph);
          const requires = stringArgument(directive, 'requires');
          if (requires) requirements.push({ subgraph, typeName, field: field.name.value, selects: topLevelFields(requires) });
        }
        ownership.fields.set(`${typeName}.${field.name.value}`, owners);
      }
    }
    return new RequiresIndex(requirements, ownership);
  }

  get isEmpty(): boolean {
    return this.byType.size === 0;
  }

  /** The requirements declared on `typeName` (any subgraph). */
  on(typeName: string): readonly Requirement[] {
    return this.byType.get(typeName) ?? [];
  }
}

/** Printed arguments of a field, sorted, so `(a: 1, b: 2)` and `(b: 2, a: 1)` compare equal. */
export function printArguments(field: FieldNode): string {
  const args = [...(field.arguments ?? [])].sort((x, y) => x.name.value.localeCompare(y.name.value));
  return args.length === 0 ? '' : `(${args.map((arg) => `${arg.name.value}: ${print(arg.value)}`).join(', ')})`;
}

function topLevelFields(fieldSet: string): RequiredField[] {
  const selectionSet = (parse(`{${fieldSet}}`).definitions[0] as { selectionSet: SelectionSetNode }).selectionSet;
  return selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD).map((field) => ({ name: field.name.value, printedArguments: printArguments(field) }));
}

/** `join__Graph` enum values to subgraph names (`@join__graph(name:)`), as FetchNode.serviceName spells them. */
function graphNames(document: DocumentNode): Map<string, string> {
  const names = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const graph = value.directives?.find((d) => d.name.value === 'join__graph');
      const name = graph && stringArgument(graph, 'name');
      if (name) names.set(value.name.value, name);
    }
  }
  return names;
}

function stringArgument(directive: ConstDirectiveNode, name: string): string | undefined {
  const value = directive.arguments?.find((a) => a.name.value === name)?.value;
  return value?.kind === Kind.STRING ? value.value : undefined;
}

function enumArgument(directive: ConstDirectiveNode, name: string): string | undefined {
  const value = directive.arguments?.find((a) => a.name.value === name)?.value;
  return value?.kind === Kind.ENUM ? value.value : undefined;
}
