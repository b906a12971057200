/**
 * `trellis.config.yaml` / `.yml` / `.json`: the same variables as the environment, written in a file,
 * as an alternative to setting them one by one. The environment wins over the file; the merged
 * result goes through the same schema, so a bad value in the file names its variable and the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ConfigError, errorMessage } from '../errors';
import type { Env } from './index';

export const CONFIG_FILE_NAMES = ['trellis.config.yaml', 'trellis.config.yml', 'trellis.config.json'];

/** `TRELLIS_CONFIG` names the file (it must exist); otherwise the first of CONFIG_FILE_NAMES in `cwd`, if any. */
export function findConfigFile(env: Env, cwd: string): string | undefined {
  if (env.TRELLIS_CONFIG) {
    const file = path.resolve(cwd, env.TRELLIS_CONFIG);
    if (!existsSync(file)) throw new ConfigError(`TRELLIS_CONFIG=${env.TRELLIS_CONFIG}: no such file`);
    return file;
  }
  return CONFIG_FILE_NAMES.map((name) => path.join(cwd, name)).find((file) => existsSync(file));
}

/**
 * The file's settings as variables: scalars as text, a list (KAFKA_BROKERS, CORS_ORIGINS) joined
 * with commas, an object (BREAKER_OVERRIDES) as JSON. A key that is no Trellis variable is refused.
 */
export function readConfigFile(file: string, knownVariables: ReadonlySet<string>): Env {
  let parsed: unknown;
  try {
    parsed = parse(readFileSync(file, 'utf8')); // YAML 1.2 is a superset of JSON, so one parser reads both
  } catch (error) {
    throw new ConfigError(`${file}: cannot read it as YAML or JSON: ${errorMessage(error)}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`${file}: must be a mapping of variable names to values, e.g. "REDIS_URL: redis://redis:6379"`);
  const env: Env = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!knownVariables.has(key)) throw new ConfigError(`${file}: unknown setting ${key} (settings are the environment variables' names, e.g. REDIS_URL)`);
    if (value === null || value === undefined) continue;
    env[key] = Array.isArray(value) ? value.map(String).join(',') : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return env;
}

/** The file under the environment: a variable set (non-empty) in `env` wins over the file. */
export function withConfigFile(env: Env, cwd: string, knownVariables: ReadonlySet<string>): Env {
  const file = findConfigFile(env, cwd);
  if (!file) return env;
  const merged: Env = readConfigFile(file, knownVariables);
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') merged[key] = value;
  return merged;
}
