/** The machine facts of a run, and the section of test/bench/RESULTS.md it replaces. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';


function quietly(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}

/** Date, commit, cores, CPU, memory and Node version, one fact per line. */
export function machineFacts(): string[] {
  const dirty = quietly('git', ['status', '--porcelain', '--untracked-files=no']) ? ' (with uncommitted changes)' : '';
  return [
    `date: ${new Date().toISOString()}`,
    `commit: ${quietly('git', ['rev-parse', '--short', 'HEAD'])} on ${quietly('git', ['rev-parse', '--abbrev-ref', 'HEAD'])}${dirty}`,
    `machine: nproc ${quietly('nproc', [])}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`,
    `node: ${process.version}`,
  ];
}

/** Replaces one bench's marked section of the results file (or appends it), leaving the rest as it is. */
export function writeResultsSection(file: string, markdown: string, bench = 'gateway'): void {
  const START = `<!-- bench:${bench}:start -->`;
  const END = `<!-- bench:${bench}:end -->`;
  const section = `${START}\n${markdown.trim()}\n${END}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n\nWritten by the benches in test/bench (see test/bench/README.md).\n';
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const next = start >= 0 && end > start ? current.slice(0, start) + section + current.slice(end + END.length) : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
}
