/**
 * One service of a platform `npm start` runs (test/support/platform.ts), found among the
 * launcher's children by its SERVICE_NAME: SIGKILLed for real, and started again afterwards with
 * the very command line and environment it had (read from /proc), on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ServiceProcess {
  pid: number;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

const nulSeparated = (file: string) => readFileSync(file, 'utf8').split('\0').filter(Boolean);

/** The parent of process `pid` (throws once it has ended): the 4th field of /proc/<pid>/stat, after "pid (comm) state". */
export function parentPid(pid: number | string): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Every service the launcher runs (one process each, or per replica with TRELLIS_REPLICAS): its children with a SERVICE_NAME, not tsx's esbuild. */
export function launcherChildren(launcherPid: number): ServiceProcess[] {
  const children: ServiceProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (parentPid(entry) !== launcherPid) continue;
      const env = Object.fromEntries(nulSeparated(`/proc/${entry}/environ`).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
      if (env.SERVICE_NAME) children.push({ pid: Number(entry), argv: nulSeparated(`/proc/${entry}/cmdline`), env, cwd: readlinkSync(`/proc/${entry}/cwd`) });
    } catch {
      // a process that ended while we looked
    }
  }
  return children;
}

/** The launcher's child running `service` (its SERVICE_NAME); with replicas, the first one's (the lowest port). */
export function findService(launcherPid: number, service: string): ServiceProcess {
  const [found] = launcherChildren(launcherPid)
    .filter((child) => child.env.SERVICE_NAME === service)
    .sort((a, b) => Number(a.env.PORT) - Number(b.env.PORT));
  if (!found) throw new Error(`no child of ${launcherPid} runs ${service}`);
  return found;
}

/** SIGKILLs the service (or sends `signal`: SIGTERM stops it as a deploy does) and resolves once its process is gone. */
export async function killService(service: ServiceProcess, timeoutMs = 10_000, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  process.kill(service.pid, signal);
  const deadline = Date.now() + timeoutMs;
  // A killed child stays a zombie until the launcher reaps it; gone or zombie both mean dead.
  while (existsSync(`/proc/${service.pid}`) && !/\) Z /.test(safeRead(`/proc/${service.pid}/stat`))) {
    if (Date.now() > deadline) throw new Error(`${service.env.SERVICE_NAME} (${service.pid}) still alive after ${signal}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What a restart changes: another entry file in place of the service's (a new revision of it, as a deploy ships), another port. */
export interface RestartChanges {
  /** Absolute path of the entry to run instead of the service's own (the last argument of its command line). */
  entry?: string;
  port?: number;
}

/** Starts the service again as it was (or as `changes` say), and resolves once it answers ready on its port. Kill it in afterAll. */
export async function restartService(service: ServiceProcess, timeoutMs = 60_000, changes: RestartChanges = {}): Promise<ChildProcess> {
  const argv = changes.entry ? [...service.argv.slice(0, -1), changes.entry] : service.argv;
  const port = changes.port ?? Number(service.env.PORT);
  const child = spawn(argv[0], argv.slice(1), { cwd: service.cwd, env: { ...service.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${service.env.SERVICE_NAME} exited with ${child.exitCode} on restart`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${service.env.SERVICE_NAME} not ready within ${timeoutMs} ms of its restart`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** SIGKILLs a restarted service (the launcher does not know it) and waits for its exit. */
export async function stopRestarted(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
