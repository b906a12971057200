/**
 * docs/kit/ documents the kit's public API exactly: each documented entry point's page lists in its
 * Exports table every name the entry point exports (values and types, as TypeScript sees them),
 * and nothing else, and shows a TypeScript example that imports from it.
 */
import ts from 'typescript';
import { fencedBlocks, readDoc } from '../../support/markdown';
import { kitEntryPoints } from '../../support/kitEntryPoints';

const entryPoints = kitEntryPoints();

/** Every name a module exports, re-exports through `export *` included. */
function exportedNames(files: string[]): Map<string, string[]> {
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    esModuleInterop: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  return new Map(
    files.map((file) => {
      const source = program.getSourceFile(file);
      const module = source && checker.getSymbolAtLocation(source);
      if (!module) throw new Error(`TypeScript cannot read ${file}`);
      return [
        file,
        checker
          .getExportsOfModule(module)
          .map((symbol) => symbol.getName())
          .sort(),
      ];
    }),
  );
}

/** The names in the first column of a page's "## Exports" table. */
function documentedNames(page: string): string[] {
  const text = readDoc(page);
  const section = text.slice(text.indexOf('\n## Exports'));
  return [...section.matchAll(/^\| `([A-Za-z_$][\w$]*)` \|/gm)].map((match) => match[1]).sort();
}

const exported = exportedNames(entryPoints.map((entry) => entry.source));

describe.each(entryPoints)('$specifier ($page)', ({ specifier, page, source }) => {
  it('lists every export of the entry point, and nothing it does not export', () => {
    const names = exported.get(source)!;
    expect(names.length).toBeGreaterThan(0);
    expect(documentedNames(page)).toEqual(names);
  });

  it('shows an example that imports from it', () => {
    const text = readDoc(page);
    const example = fencedBlocks(text.slice(text.indexOf('\n## Example'))).find((block) => block.language === 'ts');
    expect(example?.body).toContain(`from '${specifier}'`);
  });
});
