/**
 * Keeps the gateway's supergraph in step with discovery: on every change of the instance set it
 * fetches the SDLs it has not seen, and composes only when the set of (subgraph name, SDL) has
 * changed, so instances coming, going or flapping never swap the supergraph (nor flush the
 * gateway's plan cache). Each subgraph appears in the supergraph under a logical URL that names
 * it, not under one instance's address: the gateway routes by name to a healthy instance.
 * An instance's SDL is fetched again when its schema revision (`SCHEMA_REVISION_META`, which the
 * kit registers) changes, or, for an instance that publishes none, when it becomes healthy again
 * (a redeploy on the same host and port). Composition runs in a worker thread (composer.ts), so
 * a deploy does not stall the requests in flight. A failure (SDL fetch, composition, a dead
 * worker, discovery outage) never empties the schema.
 * With a publication (Consul), one gateway at a time composes: the holder of the composer lock
 * publishes by hash, and every gateway, the composer included, serves what is published
 * (publishedSupergraph.ts); the others keep following discovery only to route to instances.
 */
import { EventEmitter } from 'node:events';
import type { SupergraphSdlHook } from '@apollo/gateway';
import { SCHEMA_REVISION_META, type PublishedSupergraph, type SubgraphAllowList, type SupergraphPublication, type Watch } from '@trellis/kit/internal';
import { type Discovery, type ServiceInstance } from '@trellis/kit';
import type { Logger } from '@trellis/kit';
import { errorMessage } from '@trellis/kit/internal';
import type { SubgraphSource } from './compose';
import { CompositionTimeoutError, WorkerComposer, type Composer } from './composer';
import { PublishedSupergraphMember } from './publishedSupergraph';
import { fetchSubgraphSdl } from './fetchSdl';
import { sha256 } from '../sha256';
import { InstanceDirectory } from './instances';
import type { CompositionOutcome, SupergraphSource, SupergraphStatus } from './types';

type SupergraphSdlHookOptions = Parameters<SupergraphSdlHook>[0];

/** The URL a subgraph has in a discovered supergraph: its name, never an instance (`.invalid` never resolves). */
export function logicalSubgraphUrl(name: string): string {
  return `http://${name}.subgraph.invalid/graphql`;
}

interface KnownSdl {
  sdl: string;
  /** The instance's SCHEMA_REVISION_META when its SDL was fetched. */
  revision?: string;
}

export interface DiscoverySupergraphManagerOptions {
  discovery: Discovery;
  logger: Logger;
  sdlTimeoutMs?: number;
  /** Changes arriving within this window are composed together. */
  debounceMs?: number;
  fetchSdl?: (url: string, timeoutMs: number) => Promise<string>;
  /** Only these subgraph names and hosts are composed and called; undefined: any instance discovery reports. */
  allow?: SubgraphAllowList;
  /** Where composition runs (default: a worker thread, off the serving event loop). */
  composer?: Composer;
  /** The default composer's deadline per composition (COMPOSITION_TIMEOUT_MS); past it the composition fails. */
  compositionTimeoutMs?: number;
  /** Where one elected gateway publishes the supergraph every gateway serves; undefined: this gateway composes for itself. */
  publication?: SupergraphPublication;
  /** This gateway's name in the composer lock (default: host, pid and a random suffix). */
  holder?: string;
}

export class DiscoverySupergraphManager extends EventEmitter implements SupergraphSource {
  readonly instances = new InstanceDirectory();
  private readonly sdlByInstance = new Map<string, KnownSdl>();
  /** The (name, SDL) set last composed: the same set again composes to the same supergraph. */
  private composedSources?: string;
  private watch?: Watch;
  private update?: SupergraphSdlHookOptions['update'];
  private current?: { sdl: string; subgraphs: SubgraphSource[] };
  private state: SupergraphStatus = {
    hash: null,
    version: 0,
    composedAt: null,
    source: 'discovery',
    subgraphs: [],
    refused: [],
    untrusted: [],
    lastError: null,
    compositionFailures: 0,
  };
  private firstSdl: Promise<string>;
  private resolveFirst!: (sdl: string) => void;
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly composer: Composer;
  private readonly member?: PublishedSupergraphMember;

  constructor(private readonly options: DiscoverySupergraphManagerOptions) {
    super();
    this.composer = options.composer ?? new WorkerComposer({ timeoutMs: options.compositionTimeoutMs });
    this.firstSdl = new Promise((resolve) => (this.resolveFirst = resolve));
    const { publication, logger, holder } = options;
    if (publication) {
      this.member = new PublishedSupergraphMember({
        publication,
        logger,
        holder,
        // Elected: compose what discovery shows now, even if this gateway composed the same set before.
        onLeading: (leading) => leading && ((this.composedSources = undefined), this.schedule()),
        onPublished: (supergraph) => this.onPublished(supergraph),
      });
    }
  }

  /** Starts watching discovery; the gateway calls `initialize` later and waits for the first supergraph. */
  async start(): Promise<void> {
    this.watch = await this.options.discovery.watch((instances) => this.onInstances(instances));
    await this.member?.start();
  }

  async initialize({ update }: SupergraphSdlHookOptions) {
    this.update = update;
    const supergraphSdl = await this.firstSdl;
    return { supergraphSdl, cleanup: () => this.stop() };
  }

  ready(): Promise<string> {
    return this.firstSdl;
  }

  status(): SupergraphStatus {
    const status = structuredClone(this.state);
    if (this.member) status.publication = { ...this.member.status(), staleSeconds: this.member.staleSeconds() };
    return status;
  }

  sdl(): string | null {
    return this.current?.sdl ?? null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Stryker disable next-line ConditionalExpression: clearTimeout(undefined) is a no-op, and a timer left to fire finds the manager stopped
    if (this.timer) clearTimeout(this.timer);
    await this.watch?.stop();
    this.watch = undefined;
    await this.member?.stop();
    await this.composer.close();
  }

  private onInstances(discovered: ServiceInstance[]): void {
    const instances = this.trusted(discovered);
    // Health at the last report, to see an instance come back (it may have been redeployed).
    const wasHealthy = new Map(this.instances.all().map((instance) => [instance.id, instance.healthy]));
    this.instances.replace(instances);
    const live = new Map(instances.map((instance) => [instance.id, instance]));
    for (const [id, known] of this.sdlByInstance) {
      const instance = live.get(id);
      if (!instance || instance.meta[SCHEMA_REVISION_META] !== known.revision) this.sdlByInstance.delete(id);
      else if (known.revision === undefined && instance.healthy && wasHealthy.get(id) === false) this.sdlByInstance.delete(id);
    }
    this.schedule();
  }

  /** Composes after the debounce window, after any composition still running. */
  private schedule(delayMs = this.options.debounceMs ?? 25): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.running.then(() => this.recompose()).catch((error) => this.fail(errorMessage(error)));
    }, delayMs);
  }

  /** The instances the allow-list admits; each refused one is logged once, by name, and listed in the status. */
  private trusted(discovered: ServiceInstance[]): ServiceInstance[] {
    const { allow } = this.options;
    if (!allow) return discovered;
    const untrusted: SupergraphStatus['untrusted'] = [];
    const trusted = discovered.filter((instance) => {
      const reason = allow.refusal(instance);
      if (!reason) return true;
      untrusted.push({ name: instance.name, instance: instance.id, url: instance.url, reason });
      if (!this.state.untrusted.some((known) => known.instance === instance.id && known.url === instance.url)) {
        this.options.logger.warn({ subgraph: instance.name, instance: instance.id, url: instance.url, reason }, `subgraph ${instance.name} refused: ${reason}`);
      }
      return false;
    });
    this.state.untrusted = untrusted;
    if (untrusted.length > 0) this.emit('untrusted', this.status());
    return trusted;
  }

  private async recompose(): Promise<void> {
    // Another gateway holds the composer lock: it composes, and this one serves what it publishes.
    if (this.stopped || (this.member && !this.member.isComposer)) return;
    const sources = await this.collectSources();
    // Never published empty: an elected gateway that sees no instance yet waits for discovery to report.
    if (this.member && sources.length === 0) return;
    const key = sourcesKey(sources);
    if (key === this.composedSources) return;
    const trusted = new Set((this.current?.subgraphs ?? []).map((subgraph) => subgraph.name));
    const { composition, refused } = await this.composer.compose(sources, trusted).catch((error: unknown) => {
      this.counted(error instanceof CompositionTimeoutError ? 'timed_out' : 'failed');
      throw error;
    });
    this.counted(composition ? 'ok' : 'failed');
    if (this.stopped) return;
    for (const { name, errors } of refused) {
      this.options.logger.error({ subgraph: name, errors }, `subgraph ${name} refused: it does not compose with the rest`);
    }
    this.state.refused = refused;
    if (refused.length > 0) this.fail(refused.map((r) => `${r.name}: ${r.errors.join('; ')}`).join(' | '));
    if (!composition) {
      if (sources.length > 0 || this.current) this.fail('no subgraph set composes; keeping the last good supergraph');
      return;
    }
    this.composedSources = key;
    // Published even when served already: a newly elected composer restores what a KV that lost its data no longer names.
    if (this.member) await this.publish(composition.supergraphSdl, composition.subgraphs, key);
    else if (composition.supergraphSdl !== this.current?.sdl) this.serve(composition.supergraphSdl, composition.subgraphs);
  }

  private counted(outcome: CompositionOutcome): void {
    this.emit('composition', outcome);
  }

  /** Publishes for every gateway; served when the publication comes back (onPublished), here as everywhere. */
  private async publish(sdl: string, subgraphs: SubgraphSource[], key: string): Promise<void> {
    const supergraph = { hash: sha256(sdl), sdl, composedAt: new Date().toISOString(), subgraphs: subgraphs.map((subgraph) => subgraph.name) };
    try {
      await this.member!.publish(supergraph);
    } catch {
      // The store does not answer: compose and publish again shortly, unless a newer set came meanwhile.
      if (this.composedSources === key) this.composedSources = undefined;
      this.schedule(1000);
    }
  }

  private onPublished(published: PublishedSupergraph): void {
    if (this.stopped || published.sdl === this.current?.sdl) return;
    this.serve(
      published.sdl,
      published.subgraphs.map((name) => ({ name, url: logicalSubgraphUrl(name), sdl: '' })),
      published.composedAt,
    );
  }

  /** One SDL per subgraph name, from the first instance that answers. */
  private async collectSources(): Promise<SubgraphSource[]> {
    const fetchSdl = this.options.fetchSdl ?? fetchSubgraphSdl;
    const sources = await Promise.all(
      this.instances.names().map(async (name) => {
        // Healthy instances first; a registered but failing one may still have its SDL cached.
        const candidates = [...this.instances.instancesOf(name), ...this.instances.registeredOf(name).filter((i) => !i.healthy)];
        for (const instance of candidates) {
          let sdl = this.sdlByInstance.get(instance.id)?.sdl;
          try {
            sdl ??= await fetchSdl(instance.url, this.options.sdlTimeoutMs ?? 3000);
          } catch (error) {
            this.options.logger.warn({ subgraph: name, instance: instance.id, err: errorMessage(error) }, 'SDL fetch failed');
            continue;
          }
          this.sdlByInstance.set(instance.id, { sdl, revision: instance.meta[SCHEMA_REVISION_META] });
          return { name, url: logicalSubgraphUrl(name), sdl };
        }
        return undefined;
      }),
    );
    return sources.filter((source): source is SubgraphSource => source !== undefined);
  }

  private serve(sdl: string, subgraphs: SubgraphSource[], composedAt = new Date().toISOString()): void {
    try {
      this.update?.(sdl);
    } catch (error) {
      this.fail(`gateway refused the supergraph: ${errorMessage(error)}`);
      return;
    }
    this.current = { sdl, subgraphs };
    this.state = {
      ...this.state,
      hash: sha256(sdl),
      version: this.state.version + 1,
      composedAt,
      subgraphs: subgraphs.map(({ name, url }) => ({
        name,
        url,
        instances: this.instances.registeredOf(name).map((instance) => instance.id),
      })),
    };
    this.options.logger.info(
      { version: this.state.version, hash: this.state.hash, subgraphs: subgraphs.map((s) => s.name) },
      'supergraph served',
    );
    this.resolveFirst(sdl);
    this.emit('served', this.status());
  }

  private fail(message: string): void {
    this.state.lastError = { at: new Date().toISOString(), message };
    this.state.compositionFailures += 1;
    this.options.logger.error({ err: message }, 'supergraph composition failed');
    this.emit('failed', this.status());
  }
}

function sourcesKey(sources: SubgraphSource[]): string {
  return JSON.stringify(sources.map(({ name, sdl }) => [name, sdl]).sort(([a], [b]) => a.localeCompare(b)));
}
