/**
 * The kit's documented entry points as its package.json declares them, each with the page of
 * docs/kit/ that documents it and the TypeScript source the repository resolves it to.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './markdown';

export interface KitEntryPoint {
  /** The import specifier: `@trellis/kit`, `@trellis/kit/saga`, ... */
  specifier: string;
  /** The page that documents it, relative to the repository root. */
  page: string;
  /** Its TypeScript source (the `trellis-source` condition of the exports map), absolute. */
  source: string;
}

/** `exports` subpath → the page of docs/kit/ that documents it. `./internal` is not documented, by design. */
const PAGES: Record<string, string> = {
  '.': 'docs/kit/kit.md',
  './saga': 'docs/kit/saga.md',
  './testing': 'docs/kit/testing.md',
  './bff': 'docs/kit/bff.md',
};

export function kitEntryPoints(): KitEntryPoint[] {
  const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'shared', 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, Record<string, string>>;
  };
  return Object.entries(PAGES).map(([subpath, page]) => {
    const conditions = manifest.exports[subpath];
    if (!conditions) throw new Error(`shared/package.json exports no ${subpath}, which ${page} documents`);
    return {
      specifier: subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
      page,
      source: path.join(REPO_ROOT, 'shared', conditions['trellis-source']),
    };
  });
}
