/**
 * Hive Gateway lives in its own folder (`hive/`, own package.json and lock) so the main
 * package.json never depends on it; the bench installs it there on first use.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

export const HIVE_DIR = path.join(__dirname, 'hive');
const HIVE_BIN = path.join(HIVE_DIR, 'node_modules', '@graphql-hive', 'gateway', 'dist', 'bin.js');

/** The Hive Gateway CLI entry, installing the pinned version first if it is missing. */
export async function ensureHiveGateway(log: (line: string) => void): Promise<string> {
  if (existsSync(HIVE_BIN)) return HIVE_BIN;
  const lock = existsSync(path.join(HIVE_DIR, 'package-lock.json'));
  log(`installing Hive Gateway into ${path.relative(process.cwd(), HIVE_DIR)} (${lock ? 'npm ci' : 'npm install'}, once)`);
  await promisify(execFile)('npm', [lock ? 'ci' : 'install', '--prefix', HIVE_DIR, '--no-audit', '--no-fund'], {
    timeout: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (!existsSync(HIVE_BIN)) throw new Error(`npm finished but ${HIVE_BIN} is missing`);
  return HIVE_BIN;
}

/** Installed version, for the results header. */
export function hiveVersion(): string {
  const manifest = path.join(HIVE_DIR, 'node_modules', '@graphql-hive', 'gateway', 'package.json');
  return existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version : 'not installed';
}
