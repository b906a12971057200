/**
 * The kit packed as `npm pack -w @trellis/kit` packs it (shared/package.json's `files`: dist, the
 * bin, the templates, README, CHANGELOG), built into a temporary copy rather than shared/dist, so a test that packs never races
 * `npm run build` in another jest worker (production.test.ts rebuilds shared/dist).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** Builds and packs the kit; returns the tarball's path (`trellis-kit-<version>.tgz` in a fresh temporary folder). */
export function packKit(): string {
  const work = mkdtempSync(path.join(os.tmpdir(), 'trellis-kit-pack-'));
  const copy = path.join(work, 'package');
  mkdirSync(copy);
  copyFileSync(path.join(ROOT, 'shared/package.json'), path.join(copy, 'package.json'));
  // Everything the package ships but its build (made below), as npm pack would take it from shared/.
  const { files } = JSON.parse(readFileSync(path.join(ROOT, 'shared/package.json'), 'utf8')) as { files: string[] };
  for (const entry of files.filter((file) => file !== 'dist')) cpSync(path.join(ROOT, 'shared', entry), path.join(copy, entry), { recursive: true });
  run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'shared/tsconfig.json'), '--outDir', path.join(copy, 'dist')], ROOT);
  // The build above is what `prepack` runs; scripts off so it is not run again over the copy (it has no sources).
  run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], copy);
  const tarball = readdirSync(work).find((file) => file.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball in ${work}`);
  return path.join(work, tarball);
}
