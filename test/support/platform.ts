/** Starts the whole platform the way `npm start` does, on a free block of ports, for e2e tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { findService, killService } from './serviceProcess';
import { realBackends, uniquePrefix } from './backends';
import { releaseLease, tryLease } from './portLease';
import { isFree } from './ports';

export interface RunningPlatform {
  base: number;
  /** The launcher's process id: every service of the platform is its child. */
  pid: number;
  gatewayUrl: string;
  devHubUrl: string;
  /** The backend variables the platform runs on (real servers and its private prefixes), for extra processes to join it. */
  backendEnv: Record<string, string>;
  output: () => string;
  stop: () => Promise<number | null>;
  /** Ctrl-C in a terminal: SIGINT to the launcher's whole process group, as a shell sends it. */
  pressCtrlC: () => Promise<number | null>;
  /** SIGKILLs one service the launcher started (`catalog`, `web-bff`...), as a crash, and resolves once it is gone. */
  killService: (name: string) => Promise<void>;
}

const ROOT = path.resolve(__dirname, '..', '..');

/** `TRELLIS_REPLICAS`: replica k listens on the first replica's ports plus this times k (scripts/launcher/replicas.ts). */
export const REPLICA_PORT_STEP = 10_000;

/** The blocks of a platform of `replicas` replicas: its base, and each further replica's base. */
const blocksOf = (base: number, replicas: number) => Array.from({ length: replicas }, (_, k) => base + REPLICA_PORT_STEP * k);

/**
 * A base port whose fixed offsets (0-9, 100, 200, 400, 600, 700) are all free, leased to this
 * process until `releasePortBase` (test/support/portLease.ts): two workers starting a platform at
 * once could otherwise both find the same block free, and one would die on EADDRINUSE. With
 * `replicas`, every replica's block (base + 10000·k) is free and leased too.
 */
export async function freePortBase(replicas = 1): Promise<number> {
  // Below Linux's ephemeral range (32768-60999), where any outgoing connection could take a port between this check and the bind.
  // Bases 1000 apart: one platform's offsets (up to +700) never land on another's ports.
  const bases = Array.from({ length: 12 }, (_, i) => 20000 + i * 1000).filter((base) => base + REPLICA_PORT_STEP * (replicas - 1) <= 31000);
  if (bases.length === 0) throw new Error(`no port block below 32768 fits ${replicas} replicas`);
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = bases[Math.floor(Math.random() * bases.length)];
    const blocks = blocksOf(base, replicas);
    const leased = blocks.filter((block) => tryLease(`base-${block}`));
    if (leased.length === blocks.length) {
      const offsets = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 200, 400, 600, 700];
      const ports = blocks.flatMap((block) => offsets.map((offset) => block + offset));
      if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
    }
    for (const block of leased) releaseLease(`base-${block}`);
    // Every block leased or busy: wait for one to be given back.
    if (attempt % 12 === 11) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('no free port block found');
}

/** Gives the blocks from freePortBase back once nothing listens on them any more. */
export function releasePortBase(base: number, replicas = 1): void {
  for (const block of blocksOf(base, replicas)) releaseLease(`base-${block}`);
}

export interface PlatformOptions {
  /** `embedded` (default) ignores any CONSUL_HTTP_ADDR / REDIS_URL / KAFKA_BROKERS in the environment. */
  backends?: 'embedded' | 'real';
  env?: Record<string, string>;
  timeoutMs?: number;
  /** `source` (default) runs `scripts/start.ts` through tsx, as `npm start`; `compiled` runs `dist/scripts/start.js` with plain Node, as `npm run start:prod` (after `npm run build`). */
  build?: 'source' | 'compiled';
  /** TRELLIS_REPLICAS: replicas of every service, each on its own leased block of ports (base + 10000·k). */
  replicas?: number;
  /**
   * With `real` backends, the state store's Redis variables instead of the stack's `REDIS_URL`
   * (a private Sentinel set or Cluster: `{ REDIS_CLUSTER_NODES: ... }`); the platform still gets
   * its own key prefix.
   */
  redisEnv?: Record<string, string>;
}

export async function startPlatform(options: PlatformOptions = {}): Promise<RunningPlatform> {
  const { backends = 'embedded', env = {}, timeoutMs = 90_000, build = 'source', replicas = 1, redisEnv } = options;
  const base = await freePortBase(replicas);
  const inherited: NodeJS.ProcessEnv = { ...process.env };
  delete inherited.CONSUL_HTTP_ADDR;
  delete inherited.REDIS_URL;
  // One Redis topology per process: a sourced cluster.env's Sentinel set replaces REDIS_URL below, never joins it.
  for (const name of ['REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_CLUSTER_NODES']) delete inherited[name];
  delete inherited.KAFKA_BROKERS;
  // Each real-backend platform gets its own keys and topics, so runs sharing the servers never mix.
  const namespace = uniquePrefix('platform');
  const backendEnv: Record<string, string> =
    backends === 'real'
      ? {
          CONSUL_HTTP_ADDR: realBackends.consulUrl,
          ...(redisEnv ??
            (process.env.REDIS_SENTINELS
              ? { REDIS_SENTINELS: process.env.REDIS_SENTINELS, REDIS_SENTINEL_NAME: process.env.REDIS_SENTINEL_NAME ?? 'trellis' }
              : { REDIS_URL: realBackends.redisUrl })),
          KAFKA_BROKERS: realBackends.kafkaBrokers.join(','),
          REDIS_KEY_PREFIX: `${namespace}:`,
          KAFKA_TOPIC_PREFIX: `${namespace}.`,
          CONSUL_NAMESPACE: namespace,
        }
      : {};
  const entry = build === 'compiled' ? [path.join(ROOT, 'dist/scripts/start.js')] : ['--conditions=trellis-source', '--import', 'tsx', path.join(ROOT, 'scripts/start.ts')];
  const child: ChildProcess = spawn(process.execPath, entry, {
    cwd: ROOT,
    // Its own process group, as a shell gives a foreground job, so pressCtrlC reaches every process.
    detached: true,
    env: { ...inherited, TRELLIS_PORT_BASE: String(base), TRELLIS_REPLICAS: String(replicas), LOG_LEVEL: 'warn', ...backendEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      releasePortBase(base, replicas);
      resolve(code);
    }),
  );

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`platform not up within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const poll = setInterval(() => {
      if (output.includes('Trellis is up')) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(poll);
        clearTimeout(timer);
        reject(new Error(`platform exited with ${child.exitCode}:\n${output}`));
      }
    }, 100);
  });

  return {
    base,
    pid: child.pid!,
    gatewayUrl: `http://127.0.0.1:${base}/graphql`,
    devHubUrl: `ws://127.0.0.1:${base + 600}`,
    backendEnv: backends === 'real' ? backendEnv : { TRELLIS_DEVHUB_URL: `ws://127.0.0.1:${base + 600}` },
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      return exited;
    },
    pressCtrlC: async () => {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGINT');
      return exited;
    },
    killService: (name) => killService(findService(child.pid!, name)),
  };
}

