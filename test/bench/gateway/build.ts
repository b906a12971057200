/**
 * Trellis is benched as it is deployed: compiled by `npm run build` into dist/ and run by plain
 * Node (`npm run start:prod`), not through tsx, whose on-the-fly transform adds a helper call to
 * every function it creates (esbuild's keepNames) and its loader to the profile. Built once per
 * bench run, before the first Trellis target starts.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '..', '..', '..');
let built: Promise<void> | undefined;

/** The compiled entry point of `script` (a path under the repo, e.g. gateway/main.ts), built if this run has not yet. */
export async function compiledEntry(script: string, log: (line: string) => void): Promise<string> {
  built ??= (async () => {
    const started = Date.now();
    log('building Trellis (npm run build) to bench the compiled gateway');
    await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  })();
  await built;
  return path.join(ROOT, 'dist', script.replace(/\.ts$/, '.js'));
}
