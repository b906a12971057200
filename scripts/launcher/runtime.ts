/**
 * How a Trellis entry point runs: compiled JavaScript under `dist/` with plain Node (production), or
 * TypeScript through tsx (development). Which one follows from the file that asks, so `npm start`
 * spawns `.ts` children and `npm run start:prod` spawns `dist/**.js` children without tsx.
 */
import path from 'node:path';

export interface EntryRuntime {
  /** Where entries live: the repository root from source, `dist/` when compiled. */
  root: string;
  compiled: boolean;
  /** Node's arguments to run an entry given without extension, e.g. `gateway/main`. */
  nodeArgs(entry: string): string[];
}

/** `callerFile` is the asking module's `__filename`; `depth` how many folders below the root it sits. */
export function entryRuntime(callerFile: string, depth: number): EntryRuntime {
  const compiled = callerFile.endsWith('.js');
  const root = path.resolve(path.dirname(callerFile), ...Array<string>(depth).fill('..'));
  return {
    root,
    compiled,
    nodeArgs: (entry) => (compiled ? [path.join(root, `${entry}.js`)] : ['--conditions=trellis-source', '--import', 'tsx', path.join(root, `${entry}.ts`)]),
  };
}
