/**
 * The gateway's change feed: every gateway reads every entity change the subgraphs announce (its
 * own consumer group, starting at the newest message: a new gateway needs no history, its cache
 * Redis entries were dropped by the gateways that heard the changes), drops those entities from the
 * cache, and measures how long each change took to arrive (now − `at`).
 *
 * It also proves it is hearing: every `heartbeatMs` it publishes a heartbeat on the change topic
 * and reads it back. Until it has heard its own heartbeat, and whenever it has not for `silenceMs`
 * (Kafka down, the consumer stuck or lagging), changes may be going unheard, so it shortens the
 * cache's TTLs to `degradedTtlMs` until its heartbeat comes through again (with any changes queued
 * before it on the way). Staleness is thus bounded by `silenceMs + degradedTtlMs` even when Kafka
 * is down, and by the delivery time when it is up.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '@trellis/kit';
import { ENTITY_CHANGES_TOPIC, decodeEntityChange, type EntityChange, type EventBus, type EventMessage, type Subscription } from '@trellis/kit/internal/events';
import { PoisonMessageError, errorMessage } from '@trellis/kit/internal/errors';
import { systemClock, type Clock } from '@trellis/kit/internal/saga';
import { Backoff, type BackoffPolicy } from '@trellis/kit/internal/retry';
import type { EntityChangeSink } from './entityCache';

const CONNECT_BACKOFF: BackoffPolicy = { initialDelayMs: 500, maxDelayMs: 10_000, multiplier: 2, jitter: 0.2 };

/** What the feed needs of the cache: the entity cache's own sink interface. */
export type ChangeSink = EntityChangeSink;

export interface ChangeFeedOptions {
  events: EventBus;
  sink: ChangeSink;
  logger: Logger;
  registry: Registry;
  /** This gateway, unique among those running: its consumer group and its heartbeat's name. */
  gatewayId: string;
  /** How often the heartbeat is sent through the change topic. */
  heartbeatMs: number;
  /** How long without hearing its own heartbeat before the feed counts as down. */
  silenceMs: number;
  /** The TTL cap while the feed is down. */
  degradedTtlMs: number;
  clock?: Clock;
}

/** Marks a heartbeat on the change topic (its value names the gateway that sent it); changes carry no such header. */
export const HEARTBEAT_HEADER = 'x-trellis-heartbeat';
/** The gauge saying whether the feed hears its heartbeat (the console's cache panel reads it). */
export const FEED_LIVE_METRIC = 'trellis_entity_cache_feed_live';
/** The consumer group of one gateway's feed: one per gateway, so each hears every change. */
export const changeFeedGroup = (gatewayId: string) => `trellis-gateway-entity-changes-${gatewayId}`;

export class EntityChangeFeed {
  private readonly clock: Clock;
  private readonly metrics: ChangeFeedMetrics;
  private subscription?: Subscription;
  private timer?: { clear(): void };
  private live = false;
  /** When this gateway last heard its own heartbeat back; undefined: never yet. */
  private lastHeard?: number;
  private stopped = false;
  private publishing = false;
  private connecting?: Promise<void>;

  constructor(private readonly options: ChangeFeedOptions) {
    this.clock = options.clock ?? systemClock;
    this.metrics = new ChangeFeedMetrics(options.registry);
  }

  /** Whether changes are being heard now (its heartbeat came back within `silenceMs`). */
  isLive(): boolean {
    return this.live;
  }

  /**
   * Starts hearing, without waiting for the bus: a gateway must start and serve with Kafka down (its
   * cache then serves young entries only). Subscribing is tried again with backoff until it works.
   */
  async start(): Promise<void> {
    // Not live until proven: entries other gateways put in the shared cache are served young only.
    this.options.sink.shortenTtl(this.options.degradedTtlMs);
    this.connecting = this.connect();
    // The first heartbeat goes once subscribed (connect), the next ones every heartbeatMs.
    this.timer = this.clock.setTimeout(() => this.beat(), this.options.heartbeatMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.clear();
    await this.connecting;
    await this.subscription?.stop();
  }

  private async connect(): Promise<void> {
    const backoff = new Backoff(CONNECT_BACKOFF);
    while (!this.stopped) {
      try {
        await this.options.events.ensureTopics([ENTITY_CHANGES_TOPIC]);
        const subscription = await this.options.events.subscribe({
          groupId: changeFeedGroup(this.options.gatewayId),
          topics: [ENTITY_CHANGES_TOPIC],
          fromBeginning: false,
          handler: (message) => this.handle(message),
        });
        if (this.stopped) await subscription.stop();
        else this.subscription = subscription;
        // At once, rather than at the next beat: the feed is live as soon as it can show it hears.
        this.publishHeartbeat();
        return;
      } catch (error) {
        const delayMs = backoff.next();
        this.options.logger.warn({ err: errorMessage(error), retryInMs: delayMs }, 'entity change feed cannot subscribe yet; cached entries are served young until it does');
        await new Promise<void>((resolve) => this.clock.setTimeout(resolve, delayMs));
      }
    }
  }

  private async handle(message: EventMessage): Promise<void> {
    const from = message.headers[HEARTBEAT_HEADER];
    if (from !== undefined) {
      if (from === this.options.gatewayId) this.heard();
      return;
    }
    let change: EntityChange;
    try {
      change = decodeEntityChange(message.value);
    } catch (error) {
      throw new PoisonMessageError(errorMessage(error));
    }
    await this.options.sink.invalidate(change);
    this.metrics.delivered.inc({ type: change.type });
    this.metrics.delivery.observe(Math.max(0, this.clock.now() - change.at) / 1000);
  }

  /** Sends a heartbeat, checks the silence, and comes back in `heartbeatMs`. */
  private beat(): void {
    if (this.stopped) return;
    this.publishHeartbeat();
    const since = this.clock.now() - (this.lastHeard ?? 0);
    if (this.live && since > this.options.silenceMs) this.degrade(since);
    this.timer = this.clock.setTimeout(() => this.beat(), this.options.heartbeatMs);
  }

  private publishHeartbeat(): void {
    // One heartbeat in flight at most: a publish to a broker that is down may hang until its timeout.
    if (!this.publishing) {
      this.publishing = true;
      this.options.events
        .publish(ENTITY_CHANGES_TOPIC, { key: `heartbeat:${this.options.gatewayId}`, value: JSON.stringify({ gateway: this.options.gatewayId, at: this.clock.now() }), headers: { [HEARTBEAT_HEADER]: this.options.gatewayId } })
        .catch((error: unknown) => {
          this.metrics.heartbeatFailures.inc();
          this.options.logger.debug({ err: errorMessage(error) }, 'entity change feed heartbeat not published');
        })
        .finally(() => (this.publishing = false));
    }
  }

  private heard(): void {
    this.lastHeard = this.clock.now();
    if (this.live) return;
    this.live = true;
    this.metrics.live.set(1);
    this.options.sink.shortenTtl(undefined);
    this.options.logger.info({ gatewayId: this.options.gatewayId }, 'entity change feed live: cached entries live their declared TTLs');
  }

  private degrade(silentMs: number): void {
    this.live = false;
    this.metrics.live.set(0);
    this.metrics.outages.inc();
    this.options.sink.shortenTtl(this.options.degradedTtlMs);
    this.options.logger.warn(
      { gatewayId: this.options.gatewayId, silentMs, degradedTtlMs: this.options.degradedTtlMs },
      'entity change feed silent: changes may be going unheard, so cached entries are served for at most the degraded TTL until it hears again',
    );
  }
}

class ChangeFeedMetrics {
  readonly delivered: Counter<'type'>;
  readonly delivery: Histogram;
  readonly live: Gauge;
  readonly outages: Counter;
  readonly heartbeatFailures: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.delivered = new Counter({ name: 'trellis_entity_cache_changes_received_total', help: 'Entity changes this gateway’s change feed received and applied to the cache, by type', labelNames: ['type'], registers });
    this.delivery = new Histogram({
      name: 'trellis_entity_cache_change_delivery_seconds',
      help: 'From a change’s announcement to this gateway dropping it from the cache (the staleness window), in seconds',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.live = new Gauge({ name: FEED_LIVE_METRIC, help: '1 while this gateway hears its change-feed heartbeat (cache TTLs as declared), 0 while they are shortened', registers });
    this.outages = new Counter({ name: 'trellis_entity_cache_feed_outages_total', help: 'Times the change feed fell silent and the cache TTLs were shortened', registers });
    this.heartbeatFailures = new Counter({ name: 'trellis_entity_cache_feed_heartbeat_failures_total', help: 'Change-feed heartbeats that could not be published', registers });
    this.live.set(0);
  }
}
