/**
 * Browser code built from the repo (the console, GraphiQL): bundled by esbuild when first asked
 * for in development (`npm start`), or read from the files `npm run build` wrote beside the
 * compiled server code, so production needs no bundler and no page ever loads from a CDN.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface BundledFile {
  /** The file's name as served, e.g. `console.js`. */
  name: string;
  contentType: string;
  body: Buffer;
}

export interface BrowserBundleOptions {
  /** The bundle's name: `<name>.js` and, when it imports CSS, `<name>.css`. */
  name: string;
  /** The browser entry point (a `.ts` / `.tsx` file). */
  entry: string;
  /** Where `npm run build` writes the bundle (read first when it exists). */
  prebuiltDir: string;
}

const CONTENT_TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

export class BrowserBundle {
  private built?: Promise<Map<string, BundledFile>>;

  constructor(readonly options: BrowserBundleOptions) {}

  /** The bundle's files by name; built once, on the first call. */
  files(): Promise<Map<string, BundledFile>> {
    this.built ??= this.load();
    return this.built;
  }

  /** Bundles and writes the files into `dir` (the build step). */
  async writeTo(dir: string): Promise<string[]> {
    const files = await this.bundle();
    mkdirSync(dir, { recursive: true });
    for (const file of files.values()) writeFileSync(path.join(dir, file.name), file.body);
    return [...files.keys()].map((name) => path.join(dir, name));
  }

  private async load(): Promise<Map<string, BundledFile>> {
    const { name, prebuiltDir } = this.options;
    const prebuilt = path.join(prebuiltDir, `${name}.js`);
    if (!existsSync(prebuilt)) return this.bundle();
    const files = new Map<string, BundledFile>();
    for (const extension of ['.js', '.css']) {
      const file = path.join(prebuiltDir, `${name}${extension}`);
      if (existsSync(file)) files.set(`${name}${extension}`, { name: `${name}${extension}`, contentType: CONTENT_TYPES[extension], body: readFileSync(file) });
    }
    return files;
  }

  private async bundle(): Promise<Map<string, BundledFile>> {
    // A development dependency, loaded only here: when there is no prebuilt bundle (npm start, or the
    // build step itself). require, not import(): the code is CommonJS, and jest runs it without ESM.
    const esbuild = createRequire(__filename)('esbuild') as typeof import('esbuild');
    const { name, entry } = this.options;
    const result = await esbuild.build({
      entryPoints: { [name]: entry },
      bundle: true,
      write: false,
      outdir: '/bundle',
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      legalComments: 'none',
      jsx: 'automatic',
      define: { 'process.env.NODE_ENV': '"production"' },
      loader: { '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl', '.svg': 'dataurl' },
      logLevel: 'silent',
    });
    const files = new Map<string, BundledFile>();
    for (const output of result.outputFiles) {
      const extension = path.extname(output.path);
      if (!CONTENT_TYPES[extension]) continue;
      const file = `${name}${extension}`;
      files.set(file, { name: file, contentType: CONTENT_TYPES[extension], body: Buffer.from(output.contents) });
    }
    return files;
  }
}

/** The HTML page that loads a bundle: no inline script, so a strict CSP can apply. */
export function bundlePage(options: { title: string; base: string; name: string; hasCss: boolean; body?: string }): string {
  const { title, base, name, hasCss, body = '<div id="root"></div>' } = options;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    // No favicon to fetch (a browser asks for /favicon.ico otherwise, a 404 on every visit).
    '<link rel="icon" href="data:,">',
    hasCss ? `<link rel="stylesheet" href="${base}${name}.css">` : '',
    `</head><body>${body}<script src="${base}${name}.js"></script></body></html>`,
  ].join('');
}
