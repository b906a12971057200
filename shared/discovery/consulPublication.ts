/**
 * The published supergraph in Consul KV, and the lock that elects its composer. Keys under the
 * prefix (default `trellis/supergraph`): `lock` (held by the composer's session), `sdl/<hash>`
 * (the supergraph, JSON) and `current` (which hash is published). A publish writes the SDL under
 * its hash first, then moves `current` in one transaction that checks the lock is still held by
 * the publisher's session and that `current` is unchanged since it was read (CAS): a composer
 * that lost the lock never overwrites, and a reader never sees a pointer to a half-written SDL.
 */
import { createHash } from 'node:crypto';
import type Consul from 'consul';
import type { Logger } from '../logging';
import type { PublicationListener, PublishedSupergraph, SupergraphPublication, Watch } from './types';
import { ComposerLock } from './consulComposerLock';
import { consulErrorMessage, followConsul } from './consulFollow';
import { settled } from './consulClient';

export interface ConsulPublicationOptions {
  consul: Consul;
  logger?: Logger;
  /** KV prefix of the lock and the published supergraph (SUPERGRAPH_KV_PREFIX). */
  prefix?: string;
  /** The composer session's TTL, a backstop when its check cannot fail (Consul's minimum is 10s). */
  sessionTtl?: string;
  /** After a composer's session is invalidated, nobody takes the lock for this long (Consul's lock-delay). */
  lockDelay?: string;
  /** The check that ties the session to the composing process: a killed composer loses the lock this soon. */
  holderCheckTtl?: string;
  blockingWait?: string;
}

interface KvEntry {
  Value?: string | null;
  ModifyIndex: number;
}

/** What `current` holds: the published hash and who published it, without the SDL. */
type Pointer = Omit<PublishedSupergraph, 'sdl'>;

export class ConsulSupergraphPublication implements SupergraphPublication {
  private readonly locks = new Set<ComposerLock>();
  private readonly stops = new Set<() => void>();
  private readonly prefix: string;

  constructor(private readonly options: ConsulPublicationOptions) {
    this.prefix = (options.prefix ?? 'trellis/supergraph').replace(/\/+$/, '');
  }

  get keys() {
    return { lock: `${this.prefix}/lock`, current: `${this.prefix}/current`, sdl: (hash: string) => `${this.prefix}/sdl/${hash}` };
  }

  async campaign(holder: string, onLeading: (leading: boolean) => void): Promise<Watch> {
    const lock = new ComposerLock({
      consul: this.options.consul,
      logger: this.options.logger,
      key: this.keys.lock,
      holder,
      sessionTtl: this.options.sessionTtl ?? '10s',
      lockDelay: this.options.lockDelay ?? '1s',
      holderCheckTtl: this.options.holderCheckTtl ?? '3s',
      blockingWait: this.options.blockingWait,
      onLeading,
    });
    this.locks.add(lock);
    lock.start();
    return {
      stop: async () => {
        this.locks.delete(lock);
        await lock.stop();
      },
    };
  }

  async publish(supergraph: PublishedSupergraph): Promise<boolean> {
    const session = [...this.locks].map((lock) => lock.heldBy).find(Boolean);
    if (!session) return false;
    const { consul } = this.options;
    const current = (await consul.kv.get(this.keys.current)) as KvEntry | undefined;
    if (current?.Value && (JSON.parse(current.Value) as Pointer).hash === supergraph.hash) return true;
    await settled(consul.kv.set(this.keys.sdl(supergraph.hash), JSON.stringify(supergraph)));
    const { sdl: _sdl, ...pointer } = supergraph;
    try {
      await settled(consul.transaction.create([
        { KV: { Verb: 'check-session', Key: this.keys.lock, Session: session } },
        { KV: { Verb: 'cas', Key: this.keys.current, Index: current?.ModifyIndex ?? 0, Value: Buffer.from(JSON.stringify(pointer)).toString('base64') } },
      ] as never));
    } catch (error) {
      // 409: the lock is no longer ours, or another publish moved `current` since it was read.
      if ((error as { response?: { statusCode?: number } }).response?.statusCode === 409) return false;
      throw error;
    }
    await this.prune(supergraph.hash, current?.Value ? (JSON.parse(current.Value) as Pointer).hash : undefined);
    return true;
  }

  async follow(listener: PublicationListener): Promise<Watch> {
    const { consul, logger } = this.options;
    let served: string | undefined;
    let retry: NodeJS.Timeout | undefined;
    let stopped = false;
    const read = async (pointer: Pointer) => {
      clearTimeout(retry);
      try {
        const entry = (await consul.kv.get(this.keys.sdl(pointer.hash))) as KvEntry | undefined;
        const published = entry?.Value ? (JSON.parse(entry.Value) as PublishedSupergraph) : undefined;
        if (!published) throw new Error(`nothing under ${this.keys.sdl(pointer.hash)}`);
        if (createHash('sha256').update(published.sdl).digest('hex') !== pointer.hash) throw new Error(`the SDL under ${this.keys.sdl(pointer.hash)} does not hash to its key`);
        if (stopped || served === pointer.hash) return;
        served = pointer.hash;
        listener.onPublished(published);
      } catch (error) {
        logger?.warn({ hash: pointer.hash, err: consulErrorMessage(error) }, 'cannot read the published supergraph; trying again');
        retry = setTimeout(() => void read(pointer), 1000);
        retry.unref();
      }
    };
    const following = followConsul<KvEntry>(consul, {
      what: `kv/${this.keys.current}`,
      call: (query) => consul.kv.get({ ...query, key: this.keys.current } as never),
      wait: this.options.blockingWait,
      logger,
      onChange: (entry) => {
        if (!entry?.Value) return;
        const pointer = JSON.parse(entry.Value) as Pointer;
        if (pointer.hash !== served) void read(pointer);
      },
      onFailure: () => listener.onUnreachable(),
      onSuccess: () => listener.onRead(),
    });
    const stop = () => {
      stopped = true;
      clearTimeout(retry);
      following.stop();
    };
    this.stops.add(stop);
    return {
      stop: async () => {
        this.stops.delete(stop);
        stop();
      },
    };
  }

  async close(): Promise<void> {
    for (const stop of this.stops) stop();
    this.stops.clear();
    await Promise.all([...this.locks].map((lock) => lock.stop()));
    this.locks.clear();
  }

  /** Keeps the SDLs of the published hash and the one before it (a reader may be fetching it); drops older ones. */
  private async prune(published: string, previous: string | undefined): Promise<void> {
    const { consul, logger } = this.options;
    try {
      const keys = ((await settled(consul.kv.keys(`${this.prefix}/sdl/`))) as string[] | undefined) ?? [];
      const keep = new Set([this.keys.sdl(published), previous && this.keys.sdl(previous)]);
      await Promise.all(keys.filter((key) => !keep.has(key)).map((key) => settled(consul.kv.del(key))));
    } catch (error) {
      logger?.warn({ err: consulErrorMessage(error) }, 'cannot prune old published supergraphs');
    }
  }
}

