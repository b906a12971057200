/**
 * The storefront's files: `client/main.ts` bundled into one script (shared/http/browserBundle, the
 * same bundler as the gateway's console), beside the page and its stylesheet from `public/`.
 * `npm run build` writes all three into `built/` beside the compiled code (scripts/build/assets.ts);
 * from source the web BFF bundles the script once, in memory, on its first request.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BrowserBundle } from '@trellis/kit/bff';

export interface StorefrontFiles {
  'index.html': string;
  'storefront.css': string;
  'storefront.js': string;
}

/** Where `npm run build` puts the files, beside the compiled code. */
export const BUILT_FOLDER = path.join(__dirname, 'built');
/** The page and stylesheet as written, in the source folder. */
export const PUBLIC_FOLDER = path.join(__dirname, 'public');
const PUBLIC_FILES = ['index.html', 'storefront.css'] as const;

/** The storefront's script: bundled from `source` (this folder, from source), or read from BUILT_FOLDER when built. */
export function storefrontScript(source = __dirname): BrowserBundle {
  return new BrowserBundle({ name: 'storefront', entry: path.join(source, 'client', 'main.ts'), prebuiltDir: BUILT_FOLDER });
}

let loaded: Promise<StorefrontFiles> | undefined;

/** The built files, or the source page and a fresh bundle when running from source; made once per process. */
export function loadStorefront(): Promise<StorefrontFiles> {
  loaded ??= (async () => {
    const pages = existsSync(path.join(BUILT_FOLDER, 'index.html')) ? BUILT_FOLDER : PUBLIC_FOLDER;
    const script = (await storefrontScript().files()).get('storefront.js');
    if (!script) throw new Error('the storefront bundle has no storefront.js');
    return {
      'index.html': readFileSync(path.join(pages, 'index.html'), 'utf8'),
      'storefront.css': readFileSync(path.join(pages, 'storefront.css'), 'utf8'),
      'storefront.js': script.body.toString('utf8'),
    };
  })();
  return loaded;
}

/** The build step: the script bundled from `source` and the public files, written into BUILT_FOLDER. */
export async function buildStorefront(source: string): Promise<string[]> {
  const written = await storefrontScript(source).writeTo(BUILT_FOLDER);
  const copied = PUBLIC_FILES.map((file) => {
    const target = path.join(BUILT_FOLDER, file);
    copyFileSync(path.join(source, 'public', file), target);
    return target;
  });
  return [...written, ...copied];
}
