/** Memory and CPU of a process under load, from /proc (Linux), sampled while the load runs. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcessUsage {
  /** Highest resident set size seen while sampling, MiB. */
  peakRssMb: number;
  /** CPU time (user + system) spent while sampling, ms. */
  cpuMs: number;
}

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'));
  return line ? Number(line.split(/\s+/)[1]) / 1024 : 0;
}

/** The fields of `/proc/<pid>/stat` after the parenthesised command name: [0] state, [1] ppid, [11] utime, [12] stime. */
export function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU time (user + system) the process has spent since it started, ms. */
export function cpuMs(pid: number): number {
  const fields = statFields(pid);
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

/** Starts sampling `pid` every `intervalMs`; the returned function stops and reports. */
export function sampleUsage(pid: number, intervalMs = 200): () => ProcessUsage {
  const cpuAtStart = cpuMs(pid);
  let peakRssMb = rssMb(pid);
  const timer = setInterval(() => (peakRssMb = Math.max(peakRssMb, rssMb(pid))), intervalMs);
  return () => {
    clearInterval(timer);
    peakRssMb = Math.max(peakRssMb, rssMb(pid));
    return { peakRssMb, cpuMs: cpuMs(pid) - cpuAtStart };
  };
}
