/** Child processes of the bench: spawned with stdout/stderr kept for errors, stopped by pid. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface BenchProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** The last lines the process wrote, for an error message. */
  output(): string;
  hasExited(): boolean;
  stop(): Promise<void>;
}

export interface SpawnSpec {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

const KEEP_CHARS = 4000;

export function spawnProcess(name: string, spec: SpawnSpec): BenchProcess {
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: { ...process.env, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${spec.command}`);
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-KEEP_CHARS));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    name,
    pid: child.pid,
    child,
    output: () => output,
    hasExited,
    stop: async () => {
      if (hasExited()) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Retries `check` until it returns a value, failing early if `proc` dies. */
export async function waitFor<T>(proc: BenchProcess, what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.hasExited()) throw new Error(`${proc.name} exited before ${what}:\n${proc.output()}`);
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${proc.name}: no ${what} within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The first stdout line starting with `prefix`, parsed as JSON. */
export async function readyLine<T>(proc: BenchProcess, prefix: string, timeoutMs = 60_000): Promise<T> {
  return waitFor(proc, 'its ready line', async () => {
    const line = proc.output().split('\n').find((candidate) => candidate.startsWith(prefix));
    return line ? (JSON.parse(line.slice(prefix.length)) as T) : undefined;
  }, timeoutMs);
}
