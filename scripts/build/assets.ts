/**
 * The last step of `npm run build`: copies the files the compiled code reads at run time (the
 * mobile BFF's persisted-operations.json) from the source folders into `dist/`, beside their code,
 * bundles the web BFF's storefront there, and the gateway console's browser code into
 * `dist/gateway/console/web/bundle/` (GraphiQL is development-only and is not built).
 * Run from `dist/scripts/build/assets.js` right after tsc.
 */
import { cpSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { BrowserBundle } from '@trellis/kit/internal';
import { buildStorefront } from '../../bff/web/storefront/bundle';

/** Source folders tsc compiles (tsconfig.build.json; the kit builds into shared/dist on its own), and which of their files are run-time assets. */
const SOURCE_FOLDERS = ['gateway', 'subgraphs', 'bff', 'scripts'];
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

// The storefront, bundled from its source folder into dist/bff/web/storefront/built, where the compiled web BFF reads it.
buildStorefront(path.join(root, 'bff', 'web', 'storefront'))
  .then((written) => process.stdout.write(`build: storefront bundled into ${written.map((file) => path.relative(root, file)).join(', ')}\n`))
  .catch((error: Error) => {
    process.stderr.write(`build: bundling the storefront failed: ${error.message}\n`);
    process.exit(1);
  });

const consoleBundle = path.join(dist, 'gateway/console/web/bundle');
new BrowserBundle({ name: 'console', entry: path.join(root, 'gateway/console/web/console.ts'), prebuiltDir: consoleBundle })
  .writeTo(consoleBundle)
  .then((written) => process.stdout.write(`build: console bundled into ${written.map((file) => path.relative(root, file)).join(', ')}\n`))
  .catch((error: Error) => {
    process.stderr.write(`build: bundling the console failed: ${error.message}\n`);
    process.exit(1);
  });
