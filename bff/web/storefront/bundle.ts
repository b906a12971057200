/**
 * The storefront's files: `client/main.ts` bundled by esbuild into one script, beside the page and
 * its stylesheet from `public/`. `npm run build` writes them into dist/ (scripts/build/assets.ts);
 * from source the web BFF bundles them once at start, in memory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface StorefrontFiles {
  'index.html': string;
  'storefront.css': string;
  'storefront.js': string;
}

/** Where `npm run build` puts the bundled files, beside the compiled code. */
export const BUILT_FOLDER = path.join(__dirname, 'built');

/** Bundles the client in `source` (this folder, from source) with esbuild: a devDependency, so only source runs and the build call this. */
export async function bundleStorefront(source = __dirname): Promise<StorefrontFiles> {
  // Loaded only here, never at module load: the production image has no esbuild, only the built files.
  const esbuild = createRequire(__filename)('esbuild') as typeof import('esbuild');
  const result = await esbuild.build({
    entryPoints: [path.join(source, 'client', 'main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return {
    'index.html': readFileSync(path.join(source, 'public', 'index.html'), 'utf8'),
    'storefront.css': readFileSync(path.join(source, 'public', 'storefront.css'), 'utf8'),
    'storefront.js': result.outputFiles[0].text,
  };
}

let loaded: Promise<StorefrontFiles> | undefined;

/** The files `npm run build` made, or a fresh bundle when running from source; made once per process. */
export function loadStorefront(): Promise<StorefrontFiles> {
  loaded ??= readOrBundle();
  return loaded;
}

async function readOrBundle(): Promise<StorefrontFiles> {
  if (!existsSync(path.join(BUILT_FOLDER, 'storefront.js'))) return bundleStorefront();
  const read = (file: keyof StorefrontFiles) => readFileSync(path.join(BUILT_FOLDER, file), 'utf8');
  return {
    'index.html': read('index.html'),
    'storefront.css': read('storefront.css'),
    'storefront.js': read('storefront.js'),
  };
}
