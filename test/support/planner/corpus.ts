/**
 * The plan-diff corpus: every GraphQL operation written in the examples and the tests (string and
 * template literals that parse as an executable document and validate against the example
 * supergraph), found by reading the sources with the TypeScript parser.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { Kind, parse, print, stripIgnoredCharacters, validate, visit, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
const FOLDERS = ['bff', 'subgraphs', 'scripts', 'test', 'gateway'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (entry === 'node_modules' || entry.startsWith('.')) return [];
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return entry.endsWith('.ts') ? [full] : [];
  });
}

function literalsOf(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) found.push(node.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Distinct valid operations (one document may hold several), printed without ignored characters, sorted. */
export function operationCorpus(schema: GraphQLSchema): string[] {
  const operations = new Set<string>();
  for (const file of FOLDERS.flatMap((folder) => sourceFiles(path.join(ROOT, folder)))) {
    for (const text of literalsOf(file)) {
      if (!/^\s*(query|mutation|subscription|\{|fragment)/.test(text)) continue;
      let document;
      try {
        document = parse(text);
      } catch {
        continue;
      }
      if (document.definitions.some((d) => d.kind !== Kind.OPERATION_DEFINITION && d.kind !== Kind.FRAGMENT_DEFINITION)) continue;
      if (validate(schema, document).length > 0) continue;
      operations.add(stripIgnoredCharacters(print(document)));
    }
  }
  return [...operations].sort();
}

/** What the corpus's variables are set to, by the field and argument each feeds: data the example subgraphs hold. */
const EXAMPLE_ARGUMENTS: Record<string, unknown> = { 'user.id': 'u1', 'product.id': 'p2', 'saga.id': 'no-such-saga', 'sagaStatus.id': 'no-such-saga', 'products.first': 3 };

/**
 * Variables for one operation of the corpus, so it can be run: each variable fed straight to a field
 * argument gets the example value for that argument. A required variable with none is an error
 * naming it (a new corpus operation needs a line in EXAMPLE_ARGUMENTS).
 */
export function exampleVariables(document: DocumentNode, operationName?: string): Record<string, unknown> {
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && d.name?.value === operationName) ?? document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  const fed = new Map<string, string>();
  visit(document, {
    Field: (field) => {
      for (const argument of field.arguments ?? []) {
        if (argument.value.kind === Kind.VARIABLE) fed.set(argument.value.name.value, `${field.name.value}.${argument.name.value}`);
      }
    },
  });
  const variables: Record<string, unknown> = {};
  for (const definition of (operation as OperationDefinitionNode | undefined)?.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const argument = fed.get(name);
    if (argument && argument in EXAMPLE_ARGUMENTS) variables[name] = EXAMPLE_ARGUMENTS[argument];
    else if (definition.type.kind === Kind.NON_NULL_TYPE) throw new Error(`no example value for $${name} (${argument ?? 'not fed to a field argument'}) in ${print(document)}`);
  }
  return variables;
}
