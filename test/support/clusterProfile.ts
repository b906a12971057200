/**
 * The Redis and Consul processes of `test/stack/up cluster`, for tests that kill one for real:
 * which process holds a port (the scripts' own `ports` lists), who leads (the Sentinels' master,
 * the Consul leader), SIGKILL by the stack's pid file, and `up cluster` to bring it all back.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { alive } from './privateServers';

const ROOT = path.resolve(__dirname, '..', '..');
const STACK = path.join(ROOT, 'test/stack');
const STACK_HOME = process.env.TRELLIS_STACK_HOME || path.join(os.homedir(), '.cache', 'trellis-stack');
const run = promisify(execFile);

/** A process of the profile: its name (pid file `run/<name>.pid` of the stack) and the port it serves. */
export interface ProfileProcess {
  name: string;
  port: number;
  /** A Consul server's server RPC port, how `/v1/status/leader` names the leader. */
  rpcPort?: number;
}

/** What `redis-cluster.sh ports` and `consul-cluster.sh ports` list, in their order. */
export async function profileProcesses(script: 'redis-cluster.sh' | 'consul-cluster.sh'): Promise<ProfileProcess[]> {
  const { stdout } = await run('bash', [path.join(STACK, script), 'ports'], { cwd: ROOT });
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [name, port, rpcPort] = line.split(' ');
      return { name, port: Number(port), ...(rpcPort ? { rpcPort: Number(rpcPort) } : {}) };
    });
}

/** The pid the stack recorded for `name`. */
export function pidOf(name: string): number {
  return Number(readFileSync(path.join(STACK_HOME, 'run', `${name}.pid`), 'utf8').trim());
}

/** SIGKILLs the stack's process `name`; resolves once it is gone. */
export async function killProcess(name: string): Promise<void> {
  const pid = pidOf(name);
  process.kill(pid, 'SIGKILL');
  while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** What `down cluster` should have removed and did not: pid files of `names`, the Redis and Consul data folders. */
export function leftovers(names: string[]): string[] {
  const paths = [...names.map((name) => path.join(STACK_HOME, 'run', `${name}.pid`)), path.join(STACK_HOME, 'redis-cluster'), path.join(STACK_HOME, 'consul-cluster')];
  return paths.filter((file) => existsSync(file));
}

/** `test/stack/up cluster`: starts whatever part of the profile is not running and waits until all of it is ready. */
export async function upCluster(): Promise<void> {
  await run('bash', [path.join(STACK, 'up'), 'cluster'], { cwd: ROOT, timeout: 240_000 });
}

/** `test/stack/down cluster`: stops the whole profile and deletes its Redis and Consul data. */
export async function downCluster(): Promise<void> {
  await run('bash', [path.join(STACK, 'down'), 'cluster'], { cwd: ROOT, timeout: 120_000 });
}

/** host:port list of a cluster.env variable, as [host, port] pairs. */
export function hostPorts(list: string): Array<{ host: string; port: number }> {
  return list.split(',').map((entry) => {
    const [host, port] = entry.split(':');
    return { host, port: Number(port) };
  });
}

/** The port of the master Sentinel on `sentinelPort` names for `masterName`. */
export async function sentinelMaster(sentinelPort: number, masterName: string): Promise<number> {
  const sentinel = new Redis({ port: sentinelPort, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await sentinel.connect();
    const [, port] = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName)) as [string, string];
    return Number(port);
  } finally {
    sentinel.disconnect();
  }
}

/** The Consul leader's server RPC address ("127.0.0.1:18311") as the agent at `httpAddr` reports it ("" while there is none). */
export async function consulLeader(httpAddr: string): Promise<string> {
  const response = await fetch(`${httpAddr}/v1/status/leader`, { signal: AbortSignal.timeout(2000) });
  if (!response.ok) throw new Error(`${httpAddr}/v1/status/leader answered ${response.status}`);
  return (await response.json()) as string;
}
