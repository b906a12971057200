/**
 * Running documented commands the way a user runs them outside the repository: in bash, with an
 * environment that carries nothing of the repository's own npm run or test platform, and with npx's
 * cache entry for a spec cleared before and after (a test must not reuse, nor leave, an install).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parentPid } from './serviceProcess';

const exec = promisify(execFile);

/**
 * Set by the npm run that started the tests (npm passes its whole config on as `npm_*`, e.g. an
 * empty `npm_config_yes` that makes npx refuse to install), or by the test platform: a user's
 * shell outside the repository has none of them.
 */
const REPOSITORY_ONLY = /^(npm_|NODE$|INIT_CWD$|NODE_OPTIONS$|NODE_ENV$|LOG_LEVEL$|PORT$|HOST$|SERVICE_NAME$|CONSUL_|REDIS_|KAFKA_|TRELLIS_|AUTH_|SUBGRAPH_|OTEL_)/;
/** npm settings of the machine (a registry mirror, a proxy, a CA) that a user's npm would have too. */
const MACHINE_NPM = /^npm_config_(registry|cache|userconfig|globalconfig|cafile|proxy|https_proxy|strict_ssl)$/;

/** This process's environment without the repository's own variables, with this Node (24) first on PATH. */
export function outsideEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key, value]) => (MACHINE_NPM.test(key) ? value !== '' : !REPOSITORY_ONLY.test(key))));
  return { ...env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
}

/** Runs one command line in bash; its stdout, or an error with its whole output. */
export async function runShell(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  try {
    const { stdout } = await exec('bash', ['-euo', 'pipefail', '-c', command], { cwd, env, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, encoding: 'utf8' });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '', code, signal } = error as { stdout?: string; stderr?: string; code?: number; signal?: string };
    throw new Error(`\`${command}\` in ${cwd} failed (${signal ?? code}):\n${stdout}\n${stderr}`);
  }
}

/** Removes npx's cached install of exactly `spec` (as written on the npx command line), if any. */
export async function forgetNpx(spec: string, cwd: string): Promise<void> {
  const listed = await runShell('npm cache npx ls', cwd, outsideEnv(), 30_000);
  const keys = listed
    .split('\n')
    .map((line) => /^([0-9a-f]+): (.*)$/.exec(line.trim()))
    .filter((match): match is RegExpExecArray => match !== null && match[2].split(', ').includes(spec))
    .map((match) => match[1]);
  if (keys.length > 0) await runShell(`npm cache npx rm ${keys.join(' ')}`, cwd, outsideEnv(), 60_000);
}

/** The process under `root` (itself or a descendant, e.g. the node that `npm start` runs, not the `sh -c` around it) that has `argument` among its arguments. */
export function processUnder(root: number, argument: string): number | undefined {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const parent = parentPid(entry);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // a process that ended while we looked
    }
  }
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(argument)) return pid;
    } catch {
      continue;
    }
    queue.push(...(children.get(pid) ?? []));
  }
  return undefined;
}

export interface ShellProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** SIGKILLs whatever is left of its process group (npm, the shell npm runs, node). */
  kill(): Promise<void>;
}

/** Starts a long-running command line in bash, in its own process group as a terminal's foreground job. */
export function spawnShell(command: string, cwd: string, env: NodeJS.ProcessEnv): ShellProcess {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    kill: async () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // none left
      }
      await exited;
    },
  };
}
