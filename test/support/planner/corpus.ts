/**
 * The plan-diff corpus: every GraphQL operation written in the examples and the tests (string and
 * template literals that parse as an executable document and validate against the example
 * supergraph), found by reading the sources with the TypeScript parser.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { Kind, parse, print, stripIgnoredCharacters, validate, type GraphQLSchema } from 'graphql';

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
