/**
 * Static mode: serves a supergraph file composed elsewhere (CI, a compliance suite, your own
 * pipeline), watched for changes. A new file that is valid is swapped in; a broken one is
 * reported and the last good supergraph keeps serving. Instances are the subgraph URLs it names.
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';
import { resolve } from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import type { SupergraphSdlHook } from '@apollo/gateway';
import type { Logger } from '@trellis/kit';
import { errorMessage } from '@trellis/kit/internal';
import { InstanceDirectory } from './instances';
import type { SupergraphSource, SupergraphStatus } from './types';
import { liftEnforcedSecurityFeatures } from '../auth/securityFeatures';
import { sha256 } from '../sha256';

type SupergraphSdlHookOptions = Parameters<SupergraphSdlHook>[0];

export interface FileSupergraphSourceOptions {
  path: string;
  logger: Logger;
  /** How often the file is checked for changes (polling survives editors that replace files). */
  pollIntervalMs?: number;
}

export class FileSupergraphSource extends EventEmitter implements SupergraphSource {
  readonly instances = new InstanceDirectory();
  private readonly path: string;
  private update?: SupergraphSdlHookOptions['update'];
  private current: string | null = null;
  private state: SupergraphStatus;
  private firstSdl: Promise<string>;
  private resolveFirst!: (sdl: string) => void;
  private rejectFirst!: (error: Error) => void;

  constructor(private readonly options: FileSupergraphSourceOptions) {
    super();
    this.path = resolve(options.path);
    this.state = {
      hash: null,
      version: 0,
      composedAt: null,
      source: 'file',
      subgraphs: [],
      refused: [],
      untrusted: [],
      lastError: null,
      compositionFailures: 0,
    };
    this.firstSdl = new Promise((resolveFirst, rejectFirst) => {
      this.resolveFirst = resolveFirst;
      this.rejectFirst = rejectFirst;
    });
    this.firstSdl.catch(() => undefined);
  }

  /** Loads the file once (a broken first file stops start-up with its error), then watches it. */
  async start(): Promise<void> {
    const loaded = await this.load();
    if (!loaded) {
      const error = new Error(`supergraph file ${this.path} cannot be served: ${this.state.lastError?.message}`);
      this.rejectFirst(error);
      throw error;
    }
    watchFile(this.path, { interval: this.options.pollIntervalMs ?? 500 }, () => void this.load());
  }

  async initialize({ update }: SupergraphSdlHookOptions) {
    this.update = update;
    return { supergraphSdl: await this.firstSdl, cleanup: () => this.stop() };
  }

  ready(): Promise<string> {
    return this.firstSdl;
  }

  status(): SupergraphStatus {
    return structuredClone(this.state);
  }

  sdl(): string | null {
    return this.current;
  }

  async stop(): Promise<void> {
    unwatchFile(this.path);
  }

  private async load(): Promise<boolean> {
    let sdl: string;
    let subgraphs: ReadonlyArray<{ name: string; url: string }>;
    try {
      sdl = await readFile(this.path, 'utf8');
      // Stryker disable next-line BooleanLiteral: only the first load's answer is read, and nothing is current then
      if (sdl === this.current) return true;
      // Checked as the gateway will see it: with the security features Trellis enforces accepted.
      subgraphs = Supergraph.build(liftEnforcedSecurityFeatures(sdl)).subgraphsMetadata();
      this.update?.(sdl);
    } catch (error) {
      this.state.lastError = { at: new Date().toISOString(), message: errorMessage(error) };
      this.state.compositionFailures += 1;
      this.options.logger.error({ path: this.path, err: errorMessage(error) }, 'supergraph file refused; keeping the last good one');
      this.emit('failed', this.status());
      return false;
    }
    this.current = sdl;
    this.instances.replace(subgraphs.map(({ name, url }) => ({ id: `${name}@${url}`, name, url, meta: {}, healthy: true })));
    this.state = {
      ...this.state,
      hash: sha256(sdl),
      version: this.state.version + 1,
      composedAt: new Date().toISOString(),
      subgraphs: subgraphs.map(({ name, url }) => ({ name, url, instances: [`${name}@${url}`] })),
    };
    this.options.logger.info({ path: this.path, version: this.state.version, hash: this.state.hash }, 'supergraph file served');
    this.resolveFirst(sdl);
    this.emit('served', this.status());
    return true;
  }
}
