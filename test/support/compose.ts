/** docker-compose.yml as Compose itself resolves it (`docker-compose config`: anchors merged, paths absolute), for the deploy tests. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parse } from 'yaml';

export const ROOT = path.resolve(__dirname, '..', '..');

export interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: unknown;
  depends_on?: Record<string, { condition: string }>;
  networks?: Record<string, { aliases?: string[] } | null>;
  ports?: Array<{ target: number; published?: string }>;
  volumes?: Volume[];
}

export interface Volume {
  source: string;
  target: string;
  readOnly: boolean;
}

export function composeConfig(): { services: Record<string, ComposeService>; volumes: Record<string, unknown> } {
  const resolved = spawnSync('docker-compose', ['config'], { cwd: ROOT, encoding: 'utf8' });
  if (resolved.status !== 0) throw new Error(`docker-compose config failed: ${resolved.stderr}`);
  const config = parse(resolved.stdout) as { services: Record<string, Omit<ComposeService, 'volumes'> & { volumes?: RawVolume[] }>; volumes?: Record<string, unknown> };
  const services = Object.fromEntries(Object.entries(config.services).map(([name, service]) => [name, { ...service, volumes: service.volumes?.map(volumeOf) }]));
  // Named volumes (top level), which a service's volume names as its source.
  return { services, volumes: config.volumes ?? {} };
}

/** docker-compose 1.x prints `source:target[:ro]`, Compose 2 an object: one shape for the tests. */
type RawVolume = string | { source: string; target: string; read_only?: boolean };

function volumeOf(volume: RawVolume): Volume {
  if (typeof volume !== 'string') return { source: volume.source, target: volume.target, readOnly: volume.read_only === true };
  const [source, target, mode] = volume.split(':');
  return { source, target, readOnly: mode === 'ro' };
}
