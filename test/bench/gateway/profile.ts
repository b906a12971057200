/**
 * Where a gateway's CPU time goes: reads the V8 CPU profile a target wrote under load
 * (BENCH_PROFILE=<target> runs it with `--cpu-prof`) and sums self time by area (a package, a
 * Trellis folder, Node's internals, the garbage collector) and by function.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface TimeShare {
  name: string;
  percent: number;
}

/** The area a frame belongs to: `@apollo/gateway`, `trellis gateway/auth`, `node internals`, `(garbage collector)`. */
function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : 'node internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/(gateway|shared|subgraphs|bff)\/([^/]+)\//.exec(url);
  if (own) return `trellis ${own[1]}/${own[2]}`;
  return 'other';
}

/** Sums the profile in `dir` (of process `pid` when several processes wrote theirs there). */
export function summarizeProfile(dir: string, top = 12, pid?: number): { areas: TimeShare[]; functions: TimeShare[] } | undefined {
  // One profile per thread (tsx's loader runs on its own): the main thread's is the largest.
  // Node names them CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile.
  const file = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile') && (pid === undefined || name.split('.')[3] === String(pid)))
    .sort((a, b) => statSync(path.join(dir, a)).size - statSync(path.join(dir, b)).size)
    .pop();
  if (!file) return undefined;
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (const id of profile.samples) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)' || node.callFrame.functionName === '(program)') continue;
    busy += 1;
    const { url, functionName, lineNumber } = node.callFrame;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + 1);
    const where = url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(gateway|shared|subgraphs|bff)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + 1);
  }
  const shares = (counts: Map<string, number>) =>
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, count]) => ({ name, percent: (100 * count) / Math.max(1, busy) }));
  return { areas: shares(areas), functions: shares(functions) };
}
