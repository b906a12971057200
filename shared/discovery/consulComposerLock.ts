/**
 * One gateway's campaign for the composer lock: a Consul session (a TTL as a backstop, a
 * `lock-delay`, and the agent's `serfHealth` plus a TTL check this process keeps passing) and a KV
 * acquire on the lock key. The TTL check belongs to a service the campaign registers
 * (`trellis-supergraph-composer`, untagged, so discovery ignores it): a node-level check that goes
 * critical would mark every service on the agent unhealthy, subgraphs included. A holder that is SIGKILLed stops passing its check, Consul invalidates
 * its session within the check's TTL and releases the lock; after the lock delay the next
 * campaigner, which follows the lock key with a blocking query, acquires it. A holder whose session
 * was invalidated (its check went critical, an operator destroyed it) waits a while before
 * campaigning again, so a healthy peer takes over rather than the suspect holder.
 */
import type Consul from 'consul';
import type { Logger } from '../logging';
import { consulErrorMessage, followConsul, type Following } from './consulFollow';
import { settled } from './consulClient';
import { parseWait } from './consulRecords';

export interface ComposerLockOptions {
  consul: Consul;
  logger?: Logger;
  /** The KV key the holder's session acquires. */
  key: string;
  /** Who campaigns (the lock key's value while it holds it). */
  holder: string;
  sessionTtl: string;
  lockDelay: string;
  holderCheckTtl: string;
  blockingWait?: string;
  onLeading: (leading: boolean) => void;
}

interface LockEntry {
  Session?: string;
}

/** A papi error's HTTP status, when Consul answered. */
function statusOf(error: unknown): number | undefined {
  return (error as { response?: { statusCode?: number } }).response?.statusCode;
}

export class ComposerLock {
  private sessionId?: string;
  private leading = false;
  private stopped = false;
  private free = false;
  private watch?: Following;
  private timers = new Set<NodeJS.Timeout>();
  private acquiring = false;
  private readonly serviceId: string;
  private readonly checkId: string;

  constructor(private readonly options: ComposerLockOptions) {
    this.serviceId = `trellis-composer:${options.holder}`.replace(/[^A-Za-z0-9:._-]/g, '_');
    this.checkId = `${this.serviceId}:alive`;
  }

  /** The session holding the lock, while this campaign holds it (publishing is fenced on it). */
  get heldBy(): string | undefined {
    return this.leading ? this.sessionId : undefined;
  }

  start(): void {
    void this.openSession();
    this.every(() => this.heartbeat(), Math.max(200, parseWait(this.options.holderCheckTtl) / 3));
    this.watch = followConsul<LockEntry>(this.options.consul, {
      what: `kv/${this.options.key}`,
      call: (query) => this.options.consul.kv.get({ ...query, key: this.options.key } as never),
      wait: this.options.blockingWait,
      logger: this.options.logger,
      onChange: (entry) => this.onLockEntry(entry),
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.watch?.stop();
    const { consul } = this.options;
    const session = this.sessionId;
    this.sessionId = undefined;
    if (session) {
      // Released first: a released lock is free at once, a destroyed session's only after the lock delay.
      if (this.leading) await settled(consul.kv.set({ key: this.options.key, value: '', release: session })).catch(() => undefined);
      await settled(consul.session.destroy(session)).catch(() => undefined);
    }
    await settled(consul.agent.service.deregister(this.serviceId)).catch(() => undefined);
    this.setLeading(false);
  }

  private later(fn: () => void, ms: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  /** Runs `fn` every `ms` for as long as it answers true. */
  private every(fn: () => Promise<boolean>, ms: number): void {
    this.later(() => void fn().then((again) => again && this.every(fn, ms)), ms);
  }

  private async openSession(): Promise<void> {
    const { consul, holder, holderCheckTtl, sessionTtl, lockDelay, logger } = this.options;
    try {
      await settled(consul.agent.service.register({
        id: this.serviceId,
        name: 'trellis-supergraph-composer',
        meta: { holder },
        // A killed process's entry goes away by itself; its check turns critical after one TTL.
        check: { checkid: this.checkId, name: `${holder} campaigns`, ttl: holderCheckTtl, status: 'passing', deregistercriticalserviceafter: '1m' },
      } as never));
      const { ID } = await settled(consul.session.create({ name: `trellis supergraph composer ${holder}`, ttl: sessionTtl, lockdelay: lockDelay, behavior: 'release', checks: ['serfHealth', this.checkId] }));
      if (this.stopped) {
        await settled(consul.session.destroy(ID)).catch(() => undefined);
        return;
      }
      this.sessionId = ID;
      logger?.info({ holder, session: ID }, 'supergraph composer session opened');
    } catch (error) {
      logger?.warn({ holder, err: consulErrorMessage(error) }, 'cannot open the supergraph composer session; trying again');
      this.later(() => void this.openSession(), 1000);
      return;
    }
    const session = this.sessionId;
    this.every(() => this.renew(session), parseWait(sessionTtl) / 2);
    if (this.free) void this.acquire();
  }

  /** Keeps this process's check passing for as long as it campaigns, between sessions too: a session cannot be opened on a critical check. */
  private async heartbeat(): Promise<boolean> {
    // Unreachable: the next beat tries again; past the check's TTL Consul frees the lock, as it should.
    await settled(this.options.consul.agent.check.pass(this.checkId)).catch(() => undefined);
    return true;
  }

  private async renew(session: string): Promise<boolean> {
    if (this.sessionId !== session) return false;
    try {
      await settled(this.options.consul.session.renew(session));
    } catch (error) {
      if (statusOf(error) !== 404) return true; // Unreachable: the next renewal tries again; the session's TTL covers a short outage.
      if (this.sessionId === session) this.lost(session);
      return false;
    }
    return true;
  }

  /** The session is gone (invalidated by Consul or destroyed): step down, and campaign again after a while. */
  private lost(session: string): void {
    this.options.logger?.warn({ holder: this.options.holder, session }, 'supergraph composer session invalidated; campaigning again after the lock delay');
    this.sessionId = undefined;
    this.setLeading(false);
    // Gone already, or valid but no longer holding the lock (its key was deleted): either way, not left to expire.
    void settled(this.options.consul.session.destroy(session)).catch(() => undefined);
    this.later(() => void this.openSession(), parseWait(this.options.lockDelay) + 1000);
  }

  private onLockEntry(entry: LockEntry | undefined): void {
    const owner = entry?.Session;
    this.free = !owner;
    if (owner && owner === this.sessionId) return this.setLeading(true);
    if (this.leading && this.sessionId) {
      // The lock went to another session or was freed under us: ours is no longer valid.
      this.lost(this.sessionId);
      return;
    }
    if (this.free) void this.acquire();
  }

  private async acquire(): Promise<void> {
    const session = this.sessionId;
    if (!session || this.acquiring || this.stopped) return;
    this.acquiring = true;
    try {
      const acquired = (await settled(this.options.consul.kv.set({ key: this.options.key, value: this.options.holder, acquire: session }))) as unknown as boolean;
      if (acquired && this.sessionId === session) this.setLeading(true);
      // Refused on a free lock: the lock delay of a lost holder runs; try again shortly.
      else if (this.free) this.later(() => void this.acquire(), 250);
    } catch (error) {
      if (statusOf(error) === 500 && /invalid session/i.test(consulErrorMessage(error)) && this.sessionId === session) this.lost(session);
      else this.later(() => void this.acquire(), 1000);
    } finally {
      this.acquiring = false;
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    this.options.logger?.info({ holder: this.options.holder, leading }, leading ? 'this gateway composes the published supergraph' : 'this gateway no longer composes the published supergraph');
    this.options.onLeading(leading);
  }
}
