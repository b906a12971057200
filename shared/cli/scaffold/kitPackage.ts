/**
 * The installed kit this CLI belongs to: its folder (found by walking up from this file, which is
 * `cli/scaffold/` in the sources and `dist/cli/scaffold/` once compiled), its version, and the
 * templates it ships.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const KIT_NAME = '@trellis/kit';

export interface KitPackage {
  root: string;
  version: string;
}

export function kitPackage(from: string = __dirname): KitPackage {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (name === KIT_NAME && version) return { root: dir, version };
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot find the ${KIT_NAME} package.json above ${from}`);
  }
}

export function templateDir(kit: KitPackage, template: string): string {
  return path.join(kit.root, 'templates', template);
}
