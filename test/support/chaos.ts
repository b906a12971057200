/** Chaos harness: subgraph processes on the dev hub that can be killed, and a bounded load loop. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { DevHubServer } from '@trellis/kit/internal/devhub';
import { InMemoryDiscovery } from '@trellis/kit/testing';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { InMemoryEventBus } from '@trellis/kit/testing';
import { freePort } from './ports';
import { eventually } from './graphql';
import { startTestIdentity, type TestIdentity } from './identity';

const ROOT = path.resolve(__dirname, '..', '..');

export interface SubgraphProcess {
  name: string;
  port: number;
  child: ChildProcess;
  kill(): Promise<void>;
}

export class ChaosCluster {
  readonly hub: DevHubServer;
  hubUrl = '';
  /** Signs tokens that every subgraph of the cluster (and a gateway given `identity.env`) accepts. */
  identity!: TestIdentity;
  private readonly processes: SubgraphProcess[] = [];

  constructor(healthIntervalMs = 250) {
    this.hub = new DevHubServer({
      targets: {
        discovery: new InMemoryDiscovery({ healthIntervalMs, deregisterCriticalAfterMs: 60_000 }),
        state: new InMemoryStateStore(),
        events: new InMemoryEventBus(),
      },
    });
  }

  async start(): Promise<this> {
    this.hubUrl = await this.hub.start();
    this.identity = await startTestIdentity();
    return this;
  }

  /** Starts `subgraphs/<name>/main.ts` as its own process and waits until it is ready. */
  async startSubgraph(name: string): Promise<SubgraphProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--conditions=trellis-source', '--import', 'tsx', path.join(ROOT, `subgraphs/${name}/main.ts`)], {
      cwd: ROOT,
      env: { ...process.env, ...this.identity.env, TRELLIS_DEVHUB_URL: this.hubUrl, PORT: String(port), LOG_LEVEL: 'error', SERVICE_NAME: name },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
      const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(response.status).toBe(200);
    }, 30_000, 100);
    const proc: SubgraphProcess = {
      name,
      port,
      child,
      kill: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      },
    };
    this.processes.push(proc);
    return proc;
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((proc) => proc.kill()));
    await this.hub.stop();
    await this.identity.stop();
  }
}

export interface Sample<T> {
  at: number;
  latencyMs: number;
  result?: T;
  error?: unknown;
}

/** Runs `request` from `concurrency` loops for `durationMs`, loopback only, and returns every sample. */
export async function runLoad<T>(request: () => Promise<T>, options: { durationMs: number; concurrency: number }): Promise<Sample<T>[]> {
  const samples: Sample<T>[] = [];
  const deadline = Date.now() + options.durationMs;
  const worker = async () => {
    while (Date.now() < deadline) {
      const at = Date.now();
      const started = performance.now();
      try {
        const result = await request();
        samples.push({ at, latencyMs: performance.now() - started, result });
      } catch (error) {
        samples.push({ at, latencyMs: performance.now() - started, error });
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return samples;
}

