/**
 * Runs saga roles (test/support/sagaProcess.ts) as child processes. `spawnSagaProcess` starts one;
 * `SupervisedSagaProcess` keeps one running the way a process manager would: whenever it exits
 * (SIGKILLed by a test, or crashed because a backend was down while it started) a new one starts,
 * until `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { SagaRole } from './sagaProcess';
import { kafkaVariables, realBackends } from './backends';

const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY = path.join(ROOT, 'test/support/sagaProcess.ts');

export interface SagaProcessEnv {
  redisUrl: string;
  kafkaBrokers: string[];
  namespace: string;
  /** More variables of sagaProcess.ts (SAGA_TIMINGS, SAGA_HANDLER_DELAY_MS, …). */
  extra?: Record<string, string>;
}

/**
 * A child inherits the test's KAFKA_* variables (TLS, SASL: test/stack/cluster.env), which fit the
 * shared brokers only; for a private broker (a failure test's, plaintext) they are blanked.
 */
function plaintextUnlessShared(brokers: string[]): Record<string, string> {
  if (brokers.join(',') === realBackends.kafkaBrokers.join(',')) return {};
  return Object.fromEntries(Object.keys(kafkaVariables(process.env)).filter((name) => name !== 'KAFKA_CLIENT').map((name) => [name, '']));
}

/** Starts one role; its stdout is piped (for the ready line), its stderr goes to `stderr` or the test's. */
export function spawnSagaProcess(role: SagaRole, env: SagaProcessEnv, stderr: 'inherit' | 'pipe' = 'inherit'): ChildProcess {
  return spawn(process.execPath, ['--conditions=trellis-source', '--import', 'tsx', ENTRY], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...plaintextUnlessShared(env.kafkaBrokers),
      SAGA_ROLE: role,
      // This world's Redis, and no other topology a sourced cluster.env may carry (one at a time).
      REDIS_URL: env.redisUrl,
      REDIS_SENTINELS: '',
      REDIS_CLUSTER_NODES: '',
      KAFKA_BROKERS: env.kafkaBrokers.join(','),
      SAGA_NAMESPACE: env.namespace,
      ...env.extra,
    },
    stdio: ['ignore', 'pipe', stderr],
  });
}

/** Resolves when the child prints `<role> ready`; rejects if it exits first. */
export function readyLine(child: ChildProcess, role: SagaRole): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-4096);
      if (seen.includes(`${role} ready`)) {
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => reject(new Error(`${role} exited (${signal ?? code}) before it was ready`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * Keeps the last `limit` characters a child prints (its piped stdout and stderr), so a failing test can say what
 * each process was doing; the streams keep flowing, so a child never blocks on a full pipe.
 */
export function outputTail(child: ChildProcess, limit = 32_768): () => string {
  let kept = '';
  const keep = (chunk: Buffer) => {
    kept = (kept + chunk.toString()).slice(-limit);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => kept;
}

/** SIGKILLs a child and resolves once it is gone; false when it was not running. */
export async function killChild(child: ChildProcess): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return false;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return true;
}

export interface SupervisedOptions {
  /** Wait before a process that exited is started again. */
  restartDelayMs?: number;
  /** Every child's stdout and stderr are appended here. */
  logFile: string;
}

export class SupervisedSagaProcess {
  /** SIGKILLs delivered to a live process. */
  kills = 0;
  /** Exits this supervisor did not cause (a start that failed while a backend was down). */
  crashes = 0;
  starts = 0;
  private child?: ChildProcess;
  private readiness: Promise<void> = Promise.resolve();
  private stopped = false;
  private killing = false;
  private readonly log: WriteStream;

  constructor(
    readonly role: SagaRole,
    private readonly env: SagaProcessEnv,
    private readonly options: SupervisedOptions,
  ) {
    this.log = createWriteStream(options.logFile, { flags: 'a' });
  }

  /** Starts the first process and resolves once it is ready. */
  async start(): Promise<void> {
    this.launch();
    await this.ready();
  }

  /** Resolves once a process of this role is ready (waiting through restarts). */
  async ready(): Promise<void> {
    for (;;) {
      const current = this.readiness;
      const ok = await current.then(
        () => true,
        () => false,
      );
      if (ok && current === this.readiness) return;
      if (this.stopped) throw new Error(`${this.role} stopped`);
      if (current === this.readiness) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** SIGKILLs the running process (the supervisor starts another); false if none was running. */
  async kill(): Promise<boolean> {
    if (!this.child) return false;
    this.killing = true;
    try {
      const killed = await killChild(this.child);
      if (killed) this.kills += 1;
      return killed;
    } finally {
      this.killing = false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.child) await killChild(this.child);
    await new Promise((resolve) => this.log.end(resolve));
  }

  private launch(): void {
    if (this.stopped) return;
    const child = spawnSagaProcess(this.role, this.env, 'pipe');
    this.child = child;
    this.starts += 1;
    this.log.write(`--- ${new Date().toISOString()} start #${this.starts} pid ${child.pid}\n`);
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.readiness = readyLine(child, this.role);
    this.readiness.catch(() => undefined);
    child.once('exit', (code, signal) => {
      this.log.write(`--- ${new Date().toISOString()} pid ${child.pid} exited (${signal ?? code})\n`);
      if (this.stopped) return;
      if (!this.killing) this.crashes += 1;
      setTimeout(() => this.launch(), this.options.restartDelayMs ?? 300);
    });
  }
}
