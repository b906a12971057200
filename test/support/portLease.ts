/**
 * Port blocks leased across processes. Checking that a port is free and then binding it is a race:
 * two jest workers (or two test runs on one machine) starting a platform at the same moment both
 * found the same block free, and one platform died on EADDRINUSE. A lease is a file created
 * exclusively (`wx`) in one directory of the machine's temp dir, holding the leaser's pid; a lease
 * whose process is gone is stale and taken over (renamed away first, so two takers cannot both win).
 */
import { mkdirSync, openSync, closeSync, writeSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const DIR = path.join(tmpdir(), 'trellis-port-leases');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function create(file: string): boolean {
  try {
    const fd = openSync(file, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Takes the lease on `key` for this process; false when a live process holds it. */
export function tryLease(key: string): boolean {
  mkdirSync(DIR, { recursive: true });
  const file = path.join(DIR, key);
  if (create(file)) return true;
  let holder: number;
  try {
    holder = Number(readFileSync(file, 'utf8'));
  } catch {
    return false; // released or taken over meanwhile: another try picks another key
  }
  // A lease being written has no pid yet (NaN): treat it as held.
  if (!Number.isInteger(holder) || holder <= 0 || alive(holder)) return false;
  const stale = `${file}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(file, stale);
  } catch {
    return false; // another process took it over first
  }
  rmSync(stale, { force: true });
  return create(file);
}

/** Gives the lease back (only this process's own). */
export function releaseLease(key: string): void {
  const file = path.join(DIR, key);
  try {
    if (Number(readFileSync(file, 'utf8')) === process.pid) rmSync(file, { force: true });
  } catch {
    // already gone
  }
}
