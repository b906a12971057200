/**
 * The last step of `npm run build`: copies the files the compiled code reads at run time (today the
 * mobile BFF's persisted-operations.json) from the source folders into `dist/`, beside their code.
 * Run from `dist/scripts/build/assets.js` right after tsc.
 */
import { cpSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Source folders tsc compiles (tsconfig.build.json), and which of their files are run-time assets. */
const SOURCE_FOLDERS = ['shared', 'gateway', 'subgraphs', 'bff', 'scripts'];
const isAsset = (file: string) => /\.(json|graphql)$/.test(file);

function assetsUnder(root: string, folder: string): string[] {
  return readdirSync(path.join(root, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && isAsset(entry.name))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));
}

const root = path.resolve(__dirname, '..', '..', '..');
const dist = path.join(root, 'dist');
const copied = SOURCE_FOLDERS.flatMap((folder) => assetsUnder(root, folder));
for (const file of copied) cpSync(path.join(root, file), path.join(dist, file));
process.stdout.write(`build: ${copied.length} asset(s) copied into dist/: ${copied.join(', ') || 'none'}\n`);
