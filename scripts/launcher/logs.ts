/** Prefixes each child's output with its name; JSON log lines are shortened for a terminal. */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

const COLORS = [36, 32, 33, 35, 34, 91, 92, 93, 94, 95, 96];
const LEVEL_COLORS: Record<string, number> = { error: 31, fatal: 31, warn: 33, info: 32, debug: 90, trace: 90 };
const OMIT = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

export function pipeWithPrefix(stream: Readable, name: string, index: number, raw: boolean): void {
  const tty = process.stdout.isTTY;
  const paint = (code: number, text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
  const prefix = paint(COLORS[index % COLORS.length], name.padEnd(9)) + ' |';
  createInterface({ input: stream }).on('line', (line) => {
    process.stdout.write(`${prefix} ${raw ? line : shorten(line, paint)}\n`);
  });
}

function shorten(line: string, paint: (code: number, text: string) => string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null || typeof entry.msg !== 'string') return line;
  const level = String(entry.level ?? 'info');
  const extra = Object.entries(entry)
    .filter(([key]) => !OMIT.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${paint(LEVEL_COLORS[level] ?? 0, level.padEnd(5))} ${entry.msg}${extra ? ' ' + paint(90, extra) : ''}`;
}
