/**
 * Runs a script of the repository's code in a fresh Node process (sources through tsx, as the
 * platform runs them) and collects what it printed: for checks that need a process of their own
 * (what a process loads, what it writes on stderr, whether it exits by itself).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function runNodeScript(script: string, env: NodeJS.ProcessEnv = process.env): Promise<ScriptRun> {
  const child = spawn(process.execPath, ['--conditions=trellis-source', '--import', 'tsx', '-e', script], { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}
