/**
 * The pre-planning rewrite for a client field that a `@requires` also selects with other arguments
 * (`comments(limit: 1)` beside `summary @requires(fields: "comments(limit: 3) { id }")`). Apollo's
 * planner merges selections by response name and ignores arguments, so one of the two gets the
 * other's answer. Aliasing the client's field keeps them apart; `renameBack` restores the client's
 * response names in `data` and in error paths. Documents without such a field are left untouched.
 */
import { GraphQLError, Kind, TypeInfo, isAbstractType, visit, visitWithTypeInfo, type DocumentNode, type ExecutionResult, type FieldNode, type GraphQLSchema } from 'graphql';
import { printArguments, type RequiresIndex } from './requiresIndex';

export interface AliasedDocument {
  document: DocumentNode;
  /** alias given → the client's response name. */
  renames: ReadonlyMap<string, string>;
}

/** The document with each conflicting client field aliased, or undefined when none conflicts. */
export function aliasRequiresConflicts(schema: GraphQLSchema, index: RequiresIndex, document: DocumentNode): AliasedDocument | undefined {
  if (index.isEmpty) return undefined;
  const selected = new Set<string>();
  const names = new Set<string>();
  const typesOf = (typeInfo: TypeInfo): string[] => {
    const parent = typeInfo.getParentType();
    if (!parent) return [];
    return isAbstractType(parent) ? [parent.name, ...schema.getPossibleTypes(parent).map((t) => t.name)] : [parent.name];
  };
  const survey = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(survey, {
      Field(field) {
        names.add(field.alias?.value ?? field.name.value);
        for (const type of typesOf(survey)) selected.add(`${type}.${field.name.value}`);
      },
    }),
  );

  const renames = new Map<string, string>();
  const aliasFor = (name: string) => {
    let n = renames.size;
    while (names.has(`${name}_trellis${n}`)) n++;
    const alias = `${name}_trellis${n}`;
    names.add(alias);
    renames.set(alias, name);
    return alias;
  };
  const rewrite = new TypeInfo(schema);
  const rewritten = visit(
    document,
    visitWithTypeInfo(rewrite, {
      Field(field): FieldNode | undefined {
        if (field.alias && field.alias.value !== field.name.value) return undefined;
        const conflicts = typesOf(rewrite).some((type) =>
          index
            .on(type)
            .some((r) => selected.has(`${type}.${r.field}`) && r.selects.some((s) => s.name === field.name.value && s.printedArguments !== printArguments(field))),
        );
        return conflicts ? { ...field, alias: { kind: Kind.NAME, value: aliasFor(field.name.value) } } : undefined;
      },
    }),
  );
  return renames.size === 0 ? undefined : { document: rewritten, renames };
}

/** The result with the client's response names back, in `data` and in every error path. */
export function renameBack(result: ExecutionResult, renames: ReadonlyMap<string, string>): ExecutionResult {
  const data = result.data === undefined || result.data === null ? result.data : (renamed(result.data, renames) as Record<string, unknown>);
  const errors = result.errors?.map((error) => {
    if (!error.path) return error;
    const path = error.path.map((segment) => (typeof segment === 'string' ? (renames.get(segment) ?? segment) : segment));
    return error instanceof GraphQLError ? new GraphQLError(error.message, { path, nodes: error.nodes, extensions: error.extensions, originalError: error.originalError }) : { ...(error as object), path };
  });
  return { ...result, data, ...(errors ? { errors: errors as ExecutionResult['errors'] } : {}) };
}

function renamed(value: unknown, renames: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => renamed(item, renames));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[renames.get(key) ?? key] = renamed(item, renames);
  return out;
}
