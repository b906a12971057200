/** Starts child processes, waits until each is ready, and stops them all together. */
import { spawn, type ChildProcess } from 'node:child_process';
import { pipeWithPrefix } from './logs';
import type { EntryRuntime } from './runtime';
import type { ServiceSpec } from './services';

export interface RunningService {
  spec: ServiceSpec;
  /** The name in logs: the service's, with the replica's number from the second replica on (`users#2`). */
  label: string;
  child: ChildProcess;
  url: string;
}

export class Supervisor {
  private readonly running: RunningService[] = [];
  private stopping = false;
  onUnexpectedExit?: (service: RunningService, code: number | null) => void;

  constructor(
    private readonly runtime: EntryRuntime,
    private readonly env: NodeJS.ProcessEnv,
    private readonly rawLogs: boolean,
  ) {}

  /** `env` is this replica's own (its gateway's URL, its admin port), over the launcher's. */
  start(spec: ServiceSpec, port: number, env: NodeJS.ProcessEnv = {}, label = spec.name): RunningService {
    const child = spawn(process.execPath, this.runtime.nodeArgs(spec.entry), {
      env: { ...this.env, ...env, ...spec.env, PORT: String(port), SERVICE_NAME: spec.name },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const index = this.running.length;
    pipeWithPrefix(child.stdout!, label, index, this.rawLogs);
    pipeWithPrefix(child.stderr!, label, index, true);
    const service = { spec, label, child, url: `http://127.0.0.1:${port}` };
    child.on('exit', (code) => {
      if (!this.stopping) this.onUnexpectedExit?.(service, code);
    });
    this.running.push(service);
    return service;
  }

  /** Polls the service's ready path until it answers 200, or fails when the process dies or time runs out. */
  async waitReady(service: RunningService, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (service.child.exitCode !== null) throw new Error(`${service.label} exited with code ${service.child.exitCode}`);
      try {
        const response = await fetch(service.url + service.spec.readyPath, { signal: AbortSignal.timeout(1000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    throw new Error(`${service.label} was not ready within ${timeoutMs} ms`);
  }

  /** SIGTERM to every child in reverse start order, SIGKILL to any still alive after the grace. */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const alive = this.running.filter((service) => service.child.exitCode === null && service.child.signalCode === null);
    await Promise.all(
      alive.reverse().map(
        (service) =>
          new Promise<void>((resolve) => {
            const kill = setTimeout(() => service.child.kill('SIGKILL'), graceMs);
            service.child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            service.child.kill('SIGTERM');
          }),
      ),
    );
  }
}
