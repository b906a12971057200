/**
 * CPU time per process of the platform under test, from /proc (Linux): the launcher (with the
 * embedded dev hub), each service it spawned, and the real Kafka and Redis when they serve it.
 */
import { readdirSync, readFileSync } from 'node:fs';
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

/** The platform's processes: the launcher, its service children, and Kafka and Redis when `real`. */
export function platformProcesses(launcherPid: number, real: boolean): Process[] {
  const processes: Process[] = [{ pid: launcherPid, name: real ? 'launcher' : 'launcher + dev hub' }];
  for (const pid of allPids()) {
    const command = commandOf(pid);
    if (parentOf(pid) === launcherPid) {
      const name = serviceName(command);
      if (name) processes.push({ pid, name });
    } else if (real && /kafka\.Kafka /.test(command)) processes.push({ pid, name: 'kafka' });
    else if (real && /^redis-server /.test(command)) processes.push({ pid, name: 'redis' });
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
