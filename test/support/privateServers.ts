/**
 * Private Redis, Kafka and Consul instances on free ports, for failure tests that kill and
 * restart a server: the shared test servers are never touched.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { eventually } from './graphql';
import { freePort } from './ports';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const STACK_HOME = process.env.TRELLIS_STACK_HOME || path.join(os.homedir(), '.cache', 'trellis-stack');


/** Whether something listens on `port` of 127.0.0.1. */
export async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Whether process `pid` still runs. */
/** A process's command line, space-separated; empty when it is gone. */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** The threads of `pid` not stopped (state T in /proc/<pid>/task/<tid>/stat, after the command name's closing parenthesis). */
function runningThreads(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).filter((tid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return !/^[tT]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
    } catch {
      return false; // the thread ended
    }
  });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface PrivateServer {
  url: string;
  start(): Promise<void>;
  /** SIGKILL: the server dies as in a crash. */
  kill(): Promise<void>;
}

/** A server process that can also hang: SIGSTOP keeps its sockets open and answers nothing, as a hung host does. */
export interface PausableServer extends PrivateServer {
  pause(): void;
  resume(): void;
}

/**
 * A server process on `port`. Its output is kept (the last few kB) and `start()` fails at once,
 * naming the exit and quoting that output, when the process ends before it listens: a server
 * that died on a taken port or a bad flag is not waited out for 30 s as if it were slow.
 */
function processServer(url: string, port: number, launch: () => ChildProcess, readyTimeoutMs = 30_000): PausableServer {
  let child: ChildProcess | undefined;
  return {
    url,
    async start() {
      const started = launch();
      child = started;
      let output = '';
      const keep = (chunk: Buffer) => void (output = (output + chunk.toString()).slice(-4096));
      started.stdout?.on('data', keep);
      started.stderr?.on('data', keep);
      let ended: string | undefined;
      started.once('exit', (code, signal) => void (ended = signal ?? `code ${code}`));
      const deadline = Date.now() + readyTimeoutMs;
      while (!(await accepts(port))) {
        if (ended) throw new Error(`${started.spawnfile} exited (${ended}) before it listened on port ${port}:\n${output.trim() || '(no output)'}`);
        if (Date.now() > deadline) throw new Error(`${started.spawnfile} did not listen on port ${port} within ${readyTimeoutMs} ms:\n${output.trim() || '(no output)'}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async kill() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
  };
}

/**
 * A Redis of its own. By default it keeps nothing across a kill (a restart is an empty Redis);
 * `durable` turns on the append-only file with an fsync per write, so a SIGKILLed and restarted
 * Redis comes back with every write it acknowledged, as a production Redis with AOF would.
 */
export async function privateRedis(options: { durable?: boolean; /** More redis-server arguments, e.g. `['--maxmemory-policy', 'allkeys-lru']`. */ args?: string[] } = {}): Promise<PausableServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-redis-'));
  const persistence = options.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  return processServer(`redis://127.0.0.1:${port}`, port, () =>
    spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, ...(options.args ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/**
 * A Consul dev agent with its own ports (no DNS, no gRPC); with `aclToken`, ACLs on, default deny, that token the management one;
 * with `tls` (PEM files), also an HTTPS listener at `httpsUrl`, its certificate signed by `tls.caFile`.
 */
export async function privateConsul(options: { aclToken?: string; tls?: { caFile: string; certFile: string; keyFile: string } } = {}): Promise<PrivateServer & { httpsUrl?: string }> {
  const [http, serfLan, serfWan, server] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const binary = path.join(STACK_HOME, 'bin', 'consul');
  const args = ['agent', '-dev', '-bind', '127.0.0.1', '-client', '127.0.0.1', '-log-level', 'error', '-http-port', String(http)];
  args.push('-dns-port', '-1', '-grpc-port', '-1', '-grpc-tls-port', '-1', '-serf-lan-port', String(serfLan), '-serf-wan-port', String(serfWan));
  args.push('-server-port', String(server));
  if (options.aclToken) {
    const token = JSON.stringify(options.aclToken);
    args.push('-hcl', `acl { enabled = true default_policy = "deny" enable_token_persistence = false tokens { initial_management = ${token} agent = ${token} } }`);
  }
  let httpsUrl: string | undefined;
  if (options.tls) {
    const https = await freePort();
    const { caFile, certFile, keyFile } = options.tls;
    args.push('-https-port', String(https), '-hcl', `tls { defaults { ca_file = ${JSON.stringify(caFile)} cert_file = ${JSON.stringify(certFile)} key_file = ${JSON.stringify(keyFile)} } }`);
    httpsUrl = `https://127.0.0.1:${https}`;
  }
  const consul = processServer(`http://127.0.0.1:${http}`, http, () => spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  return {
    ...consul,
    httpsUrl,
    async start() {
      await consul.start();
      // Listening is not serving: wait for a leader.
      await eventually(async () => {
        const leader = await (await fetch(`http://127.0.0.1:${http}/v1/status/leader`)).text();
        expect(leader).toMatch(/"\d/);
      }, 30_000, 100);
    },
  };
}

/** A second KRaft broker through test/stack/kafka.sh with its own ports and data directory. */
export async function privateKafka(): Promise<PrivateServer & { pause(): Promise<void>; resume(): void; stop(): Promise<void> }> {
  const [port, controller] = await Promise.all([freePort(), freePort()]);
  const env = { ...process.env, KAFKA_INSTANCE: `kafka-private-${port}`, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controller) };
  const script = path.join(ROOT, 'test/stack/kafka.sh');
  const stack = async (verb: string) => {
    await run('bash', [script, verb], { env, timeout: 120_000 });
  };
  const pidFile = path.join(STACK_HOME, 'run', `${env.KAFKA_INSTANCE}.pid`);
  const properties = path.join(STACK_HOME, env.KAFKA_INSTANCE, 'server.properties');
  /**
   * The broker's processes: the JVMs whose command line names this instance's server.properties
   * (found in /proc, not trusted to a pid file another run may have left), and the shell the pid
   * file names when it did not exec the JVM.
   */
  const brokerPids = async () => {
    const jvms = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number)
      .filter((pid) => commandLine(pid).includes(properties));
    const recorded = Number(readFileSync(pidFile, 'utf8').trim());
    // A pid left by another run may name another process by now: signalled only if it is kafka.sh's shell or the JVM.
    const ours = commandLine(recorded).includes('kafka.sh') || jvms.includes(recorded);
    return [...new Set([...(ours ? [recorded] : []), ...jvms])];
  };
  const signal = (pids: number[], name: NodeJS.Signals) => {
    for (const each of pids) {
      try {
        process.kill(each, name);
      } catch {
        // already gone
      }
    }
  };
  /** The JVM among them that runs this instance's broker. */
  const ownBroker = (pids: number[]) => pids.find((pid) => commandLine(pid).includes(properties));
  let paused: number[] = [];
  return {
    url: `127.0.0.1:${port}`,
    start: () => stack('start'),
    // SIGSTOP: the broker keeps its sockets open and answers nothing, as a hung host does. Resolves
    // once every thread of its JVM is stopped: kill() returns when the signal is sent, not when it took.
    pause: async () => {
      paused = await brokerPids();
      const jvm = ownBroker(paused);
      if (jvm === undefined) throw new Error(`${env.KAFKA_INSTANCE}: none of ${paused.join(', ')} runs this broker; nothing to pause`);
      signal(paused, 'SIGSTOP');
      await eventually(async () => expect(runningThreads(jvm)).toEqual([]), 10_000, 10);
    },
    resume: () => signal(paused, 'SIGCONT'),
    // SIGKILL to the broker's JVM (and the shell that started it), as a crash: no controlled shutdown.
    kill: async () => {
      const pids = await brokerPids();
      signal(pids, 'SIGKILL');
      await eventually(async () => expect(pids.filter((each) => alive(each))).toEqual([]), 10_000, 50);
      rmSync(pidFile, { force: true });
    },
    stop: () => stack('stop'),
  };
}
