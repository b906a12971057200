/**
 * A private Consul cluster on loopback for failure tests: three servers (bootstrap-expect 3, fast
 * Raft timing) and one client agent, which is what the platform talks to, so killing a server (even
 * the leader) leaves the platform its agent. Every agent is a real process that can be SIGKILLed
 * or SIGSTOPped; the binary is the one test/stack/consul.sh builds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually } from './graphql';
import { freePort } from './ports';

const STACK_HOME = process.env.TRELLIS_STACK_HOME || path.join(os.homedir(), '.cache', 'trellis-stack');

export interface ConsulAgent {
  name: string;
  /** HTTP API, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Server RPC address as `/v1/status/leader` names it (`127.0.0.1:<port>`); client agents have none. */
  rpcAddress?: string;
  kill(): Promise<void>;
  /** Starts a killed agent again on its ports and data directory (it rejoins, and keeps its registrations). */
  restart(): Promise<void>;
  pause(): void;
  resume(): void;
  isRunning(): boolean;
}

export interface ConsulCluster {
  servers: ConsulAgent[];
  /** The client agent the platform talks to (CONSUL_HTTP_ADDR). */
  client: ConsulAgent;
  /** The server that leads Raft now. */
  leader(): Promise<ConsulAgent>;
  stop(): Promise<void>;
}

interface Ports {
  http: number;
  serfLan: number;
  serfWan: number;
  server: number;
}

async function ports(): Promise<Ports> {
  const [http, serfLan, serfWan, server] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  return { http, serfLan, serfWan, server };
}

function agent(name: string, own: Ports, dir: string, extra: string[]): ConsulAgent {
  const args = ['agent', '-node', name, '-bind', '127.0.0.1', '-client', '127.0.0.1', '-data-dir', path.join(dir, name), '-log-level', 'error'];
  args.push('-http-port', String(own.http), '-dns-port', '-1', '-grpc-port', '-1', '-grpc-tls-port', '-1');
  args.push('-serf-lan-port', String(own.serfLan), '-serf-wan-port', String(own.serfWan), '-server-port', String(own.server));
  // Raft at its fastest timing (the production default is 5x slower): a killed leader is replaced in about a second.
  args.push('-hcl', 'performance { raft_multiplier = 1 }', ...extra);
  const launch = () => spawn(path.join(STACK_HOME, 'bin', 'consul'), args, { stdio: 'ignore' });
  let child: ChildProcess = launch();
  const running = () => child.exitCode === null && child.signalCode === null;
  const url = `http://127.0.0.1:${own.http}`;
  return {
    name,
    url,
    rpcAddress: extra.includes('-server') ? `127.0.0.1:${own.server}` : undefined,
    isRunning: running,
    async kill() {
      if (!running()) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
    async restart() {
      if (running()) return;
      child = launch();
      await eventually(async () => expect((await fetch(`${url}/v1/agent/self`, { signal: AbortSignal.timeout(1000) })).ok).toBe(true), 30_000, 100);
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
  };
}

async function leaderAddress(url: string): Promise<string> {
  const response = await fetch(`${url}/v1/status/leader`, { signal: AbortSignal.timeout(1000) });
  return (await response.json()) as string;
}

/** Starts three servers and a client agent, and resolves once a leader is elected and the client has joined. */
export async function startConsulCluster(): Promise<ConsulCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-consul-cluster-'));
  const serverPorts = await Promise.all([ports(), ports(), ports()]);
  const joins = serverPorts.flatMap((p) => ['-retry-join', `127.0.0.1:${p.serfLan}`]);
  const servers = serverPorts.map((own, i) => agent(`server-${i + 1}`, own, dir, ['-server', '-bootstrap-expect', '3', ...joins]));
  const client = agent('client', await ports(), dir, joins);
  const all = [...servers, client];
  const cluster: ConsulCluster = {
    servers,
    client,
    async leader() {
      let found: ConsulAgent | undefined;
      await eventually(async () => {
        const running = servers.find((server) => server.isRunning())!;
        const address = await leaderAddress(running.url);
        found = servers.find((server) => server.rpcAddress === address && server.isRunning());
        expect(found).toBeDefined();
      }, 30_000, 100);
      return found!;
    },
    async stop() {
      await Promise.all(all.map((each) => each.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await eventually(async () => {
      expect(await leaderAddress(client.url)).toMatch(/^127\.0\.0\.1:\d+$/);
      // The client agent is in the catalog: it can register services and open sessions.
      const nodes = (await (await fetch(`${client.url}/v1/catalog/nodes`)).json()) as Array<{ Node: string }>;
      expect(nodes.map((node) => node.Node)).toContain('client');
    }, 60_000, 200);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
