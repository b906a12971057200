/**
 * CPU time per process of the platform under test, from /proc (Linux): the launcher (with the
 * embedded dev hub), each service it spawned, and the real Kafka and Redis when they serve it.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { realBackends } from '../../support/backends';
import { cpuMs, statFields } from '../gateway/usage';

interface Process {
  pid: number;
  name: string;
}

function parentOf(pid: number): number | undefined {
  try {
    return Number(statFields(pid)[1]);
  } catch {
    return undefined; // gone meanwhile
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

const allPids = () => readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number);

/** What a service process is called, from the entry file on its command line. */
function serviceName(command: string): string | undefined {
  const match = /(gateway|subgraphs\/(\w+)|bff\/(\w+))\/main\.[tj]s/.exec(command);
  if (!match) return undefined;
  if (match[2]) return match[2];
  if (match[3]) return `${match[3]}-bff`;
  return 'gateway';
}

/** Socket inodes listening on `port` (any address), from /proc/net/tcp and tcp6. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local address is HEXIP:HEXPORT; state 0A is LISTEN; inode is the tenth field.
      if (fields.length > 9 && fields[3] === '0A' && parseInt(fields[1].split(':')[1], 16) === port) inodes.add(fields[9]);
    }
  }
  return inodes;
}

/**
 * The process listening on `port`: the broker or Redis the platform talks to, not another one on
 * the machine (other test runs start private brokers and clusters beside the stack's).
 */
function listenerOf(port: number, pids: number[]): number | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

const portOf = (address: string) => Number(new URL(address.includes('://') ? address : `tcp://${address}`).port);

/** A Redis server the platform's state store uses, by the name its CPU is shown under. */
export interface RedisServer {
  name: string;
  port: number;
}

/** The stack's standalone Redis, where the `real` backends keep their state. */
export const stackRedis = (): RedisServer[] => [{ name: 'redis', port: portOf(realBackends.redisUrl) }];

/**
 * The platform's processes: the launcher, its service children, and when `real` the Kafka broker
 * and the Redis servers it uses (the stack's one by default; a Sentinel set's primary and replica).
 */
export function platformProcesses(launcherPid: number, real: boolean, redisServers: RedisServer[] = stackRedis()): Process[] {
  const processes: Process[] = [{ pid: launcherPid, name: real ? 'launcher' : 'launcher + dev hub' }];
  const pids = allPids();
  for (const pid of pids) {
    if (parentOf(pid) !== launcherPid) continue;
    const name = serviceName(commandOf(pid));
    if (name) processes.push({ pid, name });
  }
  if (real) {
    const servers = pids.filter((pid) => /kafka\.Kafka |^redis-server /.test(commandOf(pid)));
    const kafka = listenerOf(portOf(realBackends.kafkaBrokers[0]), servers);
    if (kafka !== undefined) processes.push({ pid: kafka, name: 'kafka' });
    for (const { name, port } of redisServers) {
      const redis = listenerOf(port, servers);
      if (redis !== undefined) processes.push({ pid: redis, name });
    }
  }
  return processes;
}

/** Starts counting; the returned function gives the CPU ms each process spent since, by name. */
export function countCpu(processes: Process[]): () => Map<string, number> {
  const start = new Map(processes.map((process) => [process.pid, safeCpu(process.pid)]));
  return () => new Map(processes.map((process) => [process.name, safeCpu(process.pid) - (start.get(process.pid) ?? 0)]));
}

function safeCpu(pid: number): number {
  try {
    return cpuMs(pid);
  } catch {
    return Number.NaN; // the process is gone: shown as missing, never as 0
  }
}
