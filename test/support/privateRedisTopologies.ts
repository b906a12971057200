/**
 * A Redis Sentinel set (primary, replica, three Sentinels) and a three-primary Redis Cluster of
 * their own, on free ports, for the state store's topology tests: CI runs no cluster profile, and
 * a failover test kills the primary, which must never be a shared server. `stop()` kills every
 * process and deletes its directory. No jest here (node:assert): the saga bench starts a set too.
 */
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import type { RedisTopology } from '@trellis/kit/internal/state';
import { eventually } from './graphql';
import { freePort } from './ports';

const run = promisify(execFile);

interface RedisProcess {
  port: number;
  child: ChildProcess;
}

/** Starts redis-server with `args` on `port` and waits until it answers PING. */
async function startRedis(port: number, args: string[], dir: string): Promise<RedisProcess> {
  const child = spawn('redis-server', [...args, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await eventually(async () => assert.equal(await ask(port, (redis) => redis.ping()), 'PONG'), 20_000, 100);
  return { port, child };
}

/** One command on a short-lived connection that gives up at once, so a dead server is an error, not a wait. */
export async function ask<T>(port: number, command: (redis: Redis) => Promise<T>, host = '127.0.0.1'): Promise<T> {
  const redis = new Redis({ port, host, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000, commandTimeout: 2000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await command(redis);
  } finally {
    redis.disconnect();
  }
}

async function killAll(processes: RedisProcess[]): Promise<void> {
  await Promise.all(
    processes.map(({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      return exited;
    }),
  );
}

export interface PrivateSentinelSet {
  topology: Extract<RedisTopology, { kind: 'sentinel' }>;
  /** The port of the server the Sentinels call primary now. */
  primaryPort(): Promise<number>;
  /** SIGKILLs the server that is primary now; resolves once it is dead. */
  killPrimary(): Promise<number>;
  /** Resolves once the Sentinels name a primary other than `port` and it accepts writes. */
  promoted(from: number, timeoutMs?: number): Promise<number>;
  /**
   * Starts an empty Redis again on the port of a killed server, as a replica of the primary now (as
   * an operator brings one back; left a primary, it would wait for the Sentinels to demote it, which
   * took over a minute on a loaded machine).
   */
  restart(port: number): Promise<void>;
  /** SIGSTOPs the Sentinel on `port` (a hung Sentinel: it accepts connections and answers nothing); `resumeSentinel` SIGCONTs it. */
  pauseSentinel(port: number): void;
  resumeSentinel(port: number): void;
  stop(): Promise<void>;
}

/** A primary, one replica of it, and three Sentinels (quorum 2) that fail over after 1 s of silence, an election held again after 4 s. */
export async function privateSentinelSet(name = 'trellis'): Promise<PrivateSentinelSet> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-sentinel-'));
  const processes: RedisProcess[] = [];
  const byPort = new Map<number, RedisProcess>();
  const started = (each: RedisProcess) => (processes.push(each), byPort.set(each.port, each), each);
  try {
    const [primaryPort, replicaPort, ...sentinelPorts] = await Promise.all(Array.from({ length: 5 }, () => freePort()));
    started(await startRedis(primaryPort, [], dir));
    started(await startRedis(replicaPort, ['--replicaof', '127.0.0.1', String(primaryPort)], dir));
    await eventually(async () => assert.match(await ask(replicaPort, (redis) => redis.info('replication')), /master_link_status:up/), 20_000, 100);
    for (const port of sentinelPorts) {
      const conf = path.join(dir, `sentinel-${port}.conf`);
      // Sentinel rewrites its file (the replicas and peers it learns): one writable file each.
      writeFileSync(
        conf,
        [
          `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 2000`,
          `sentinel parallel-syncs ${name} 1`,
        ].join('\n') + '\n',
      );
      const child = spawn('redis-server', [conf, '--sentinel', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir], { stdio: 'ignore' });
      started({ port, child });
    }
    // Ready when every Sentinel sees the primary, its replica, and the two other Sentinels (else no quorum to fail over).
    for (const port of sentinelPorts) {
      await eventually(
        async () => {
          const [master, replicas, peers] = await ask(port, async (redis) => [
            (await redis.call('SENTINEL', 'get-master-addr-by-name', name)) as string[],
            (await redis.call('SENTINEL', 'replicas', name)) as unknown[],
            (await redis.call('SENTINEL', 'sentinels', name)) as unknown[],
          ]);
          assert.deepEqual([master, replicas.length, peers.length], [['127.0.0.1', String(primaryPort)], 1, 2]);
        },
        30_000,
        200,
      );
    }
    const sentinel = sentinelPorts.map((port) => ({ host: '127.0.0.1', port }));
    const primaryNow = async () => {
      for (const { port } of sentinel) {
        const answer = await ask(port, (redis) => redis.call('SENTINEL', 'get-master-addr-by-name', name) as Promise<string[]>).catch(() => undefined);
        if (answer) return Number(answer[1]);
      }
      throw new Error('no Sentinel answers');
    };
    return {
      topology: { kind: 'sentinel', sentinels: sentinel, name },
      primaryPort: primaryNow,
      async killPrimary() {
        const port = await primaryNow();
        await killAll([byPort.get(port)!]);
        return port;
      },
      async promoted(from, timeoutMs = 30_000) {
        return eventually(
          async () => {
            const port = await primaryNow();
            assert.notEqual(port, from);
            assert.equal(await ask(port, (redis) => redis.call('ROLE') as Promise<unknown[]>).then((role) => role[0]), 'master');
            return port;
          },
          timeoutMs,
          50,
        );
      },
      async restart(port) {
        started(await startRedis(port, ['--replicaof', '127.0.0.1', String(await primaryNow())], dir));
      },
      pauseSentinel: (port) => byPort.get(port)!.child.kill('SIGSTOP'),
      resumeSentinel: (port) => byPort.get(port)!.child.kill('SIGCONT'),
      stop: async () => {
        // A paused Sentinel would hold its SIGKILL until it runs again.
        for (const { child } of processes) child.kill('SIGCONT');
        await killAll(processes);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await killAll(processes);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface PrivateCluster {
  topology: Extract<RedisTopology, { kind: 'cluster' }>;
  /** The port of the primary that serves `key`'s slot now (as the nodes' shared view says). */
  primaryOf(key: string): Promise<number>;
  /** SIGKILLs the server on `port`; resolves once it is dead. */
  kill(port: number): Promise<void>;
  /** Resolves with the port of the node that serves `key`'s slot once it is not `from` and the cluster says ok again. */
  promoted(key: string, from: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

/** The `host:port` of each master line of CLUSTER NODES that serves `slot`. */
function servingPrimary(nodes: string, slot: number): number | undefined {
  for (const line of nodes.trim().split('\n')) {
    const [, address, flags, , , , , state, ...ranges] = line.split(' ');
    if (!flags.split(',').includes('master') || flags.includes('fail') || state !== 'connected') continue;
    const serves = ranges.some((range) => {
      const [low, high = low] = range.split('-').map(Number);
      return slot >= low && slot <= high;
    });
    if (serves) return Number(address.split('@')[0].split(':')[1]);
  }
  return undefined;
}

/**
 * Three primaries, every slot assigned, ready when each node says cluster_state:ok; with
 * `replicasPerPrimary`, that many replicas of each, promoted when their primary fails for
 * `cluster-node-timeout` (2 s).
 */
export async function privateCluster(replicasPerPrimary = 0): Promise<PrivateCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-cluster-'));
  const processes: RedisProcess[] = [];
  const byPort = new Map<number, RedisProcess>();
  try {
    const count = 3 * (1 + replicasPerPrimary);
    const ports = await Promise.all(Array.from({ length: 2 * count }, () => freePort()));
    const nodes = ports.slice(0, count);
    for (const [i, port] of nodes.entries()) {
      // The bus port is given, not port + 10000, which may be taken or past 65535.
      const args = ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, `nodes-${port}.conf`), '--cluster-port', String(ports[count + i]), '--cluster-node-timeout', '2000'];
      const started = await startRedis(port, args, dir);
      processes.push(started);
      byPort.set(port, started);
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', String(replicasPerPrimary), '--cluster-yes'], { timeout: 60_000 });
    for (const port of nodes) {
      await eventually(async () => assert.match(await ask(port, (redis) => redis.call('CLUSTER', 'INFO') as Promise<string>), /cluster_state:ok/), 30_000, 200);
    }
    const alive = () => nodes.filter((port) => byPort.get(port)!.child.exitCode === null && byPort.get(port)!.child.signalCode === null);
    const primaryOf = async (key: string) => {
      const port = alive()[0];
      const [slot, view] = await ask(port, async (redis) => [(await redis.call('CLUSTER', 'KEYSLOT', key)) as number, (await redis.call('CLUSTER', 'NODES')) as string]);
      const primary = servingPrimary(view, slot);
      if (primary === undefined) throw new Error(`no connected primary serves slot ${slot} of ${key}`);
      return primary;
    };
    return {
      topology: { kind: 'cluster', nodes: nodes.map((port) => ({ host: '127.0.0.1', port })) },
      primaryOf,
      kill: (port) => killAll([byPort.get(port)!]),
      promoted: (key, from, timeoutMs = 30_000) =>
        eventually(
          async () => {
            const port = await primaryOf(key);
            assert.notEqual(port, from);
            assert.match(await ask(port, (redis) => redis.call('CLUSTER', 'INFO') as Promise<string>), /cluster_state:ok/);
            return port;
          },
          timeoutMs,
          50,
        ),
      stop: async () => {
        await killAll(processes);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await killAll(processes);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
