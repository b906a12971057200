/**
 * Runs sagas. Each saga is a versioned record in the state store, changed only by
 * compare-and-set, and filed in a due-time index in the same atomic write. The record carries its
 * outbox (the commands it must send): a relay publishes them after the write and marks them sent,
 * so a crash or a Kafka outage between the two only delays them. A sweeper in every orchestrator
 * claims what is due (an unsent outbox, a backoff that ended, a deadline that passed) and moves it
 * on, so no saga waits for a restart or a stray reply after any outage.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { EventBus, Subscription } from '../events';
import type { StateStore, VersionedValue, VersionedWrite } from '../state';
import type { Logger } from '../logging';
import { CORRELATION_ID_HEADER, TRACEPARENT_HEADER } from '../logging';
import { ErrorCode, errorMessage, NotFoundError, TrellisError } from '../errors';
import { Backoff, isRetriable } from '../retry';
import type { Clock } from './clock';
import { StoreClock } from './storeClock';
import { applyReply, begin, createRecord, nextWakeUp, tick, type Dispatch, type Transition } from './machine';
import { SAGA_TOPICS, TERMINAL_STATES, type SagaCommand, type SagaDefinition, type SagaRecord, type SagaReply } from './types';
import { parseReply } from './wire';
import { attemptDeadline } from './deadlines';
import { SagaMetrics } from './metrics';
import { DefinitionVersions, versionOf } from './versions';
import { readable, SagaParking } from './parking';
import { withHeldReplies } from './heldReplies';
import {
  DEFAULT_DUE_SHARDS,
  dueIndexKey,
  dueShardOf,
  idempotencyKey,
  LAYOUT_KEY,
  LEGACY_DUE_INDEX,
  legacySagaKey,
  recentIndexKey,
  RECENT_PER_SHARD,
  sagaChannel,
  sagaIdOfKey,
  sagaKey,
} from './keys';

export { sagaKey, sagaChannel, idempotencyKey, RECORD_PREFIX } from './keys';

/** What an idempotency key may be: what clients and BFFs send, checked before a saga starts. */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,200}$/;
export const IDEMPOTENCY_KEY_RULE = 'must be 1-200 characters of letters, digits and -_.:';

/** The same idempotency key used again for a different request. */
export class IdempotencyKeyReusedError extends TrellisError {
  constructor(key: string) {
    super(ErrorCode.IDEMPOTENCY_KEY_REUSED, `idempotency key ${key} was already used for a different request`);
  }
}

export interface StartSagaOptions {
  id?: string;
  correlationId?: string;
  /** W3C trace context: kept in the record and sent with every command, so one saga is one trace. */
  traceparent?: string;
  /**
   * Makes the start idempotent: the same `key` in the same `scope` (the caller) gives the saga the
   * first call made, for `idempotencyTtlMs`; the same key with a different `request` is refused.
   */
  idempotency?: { scope: string; key: string; request: unknown };
}

export interface SagaOrchestratorOptions {
  state: StateStore;
  events: EventBus;
  logger: Logger;
  /**
   * Every version of every definition this orchestrator drives: several of one name are its
   * versions, the last given the newest (new sagas start on it); keep an old version here until
   * its sagas have ended (versions.ts).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  definitions: Array<SagaDefinition<any>>;
  /** Injected in tests; by default the host's clock set by the state store's (Redis TIME), so every orchestrator keeps one time (storeClock.ts). */
  clock?: Clock;
  newId?: () => string;
  /** How often parked sagas this orchestrator can now drive are looked for and taken back; 5 s by default. */
  parkedScanIntervalMs?: number;
  /** How long a finished saga's record is kept. */
  retentionMs?: number;
  /** How long an idempotency key maps to its saga; 24 h by default. */
  idempotencyTtlMs?: number;
  /** How often the sweeper looks for due sagas. */
  sweepIntervalMs?: number;
  /** A claimed saga is left to its claimer this long before another sweeper may take it. */
  claimLeaseMs?: number;
  /** An outbox not marked sent this long after its write is sent again by a sweeper. */
  relayGraceMs?: number;
  /** Unfinished sagas whose last write this process remembers (the oldest is forgotten first); 10,000 by default. */
  rememberedSagas?: number;
  /** Where sagas started, ended (by outcome) and their durations are counted (`trellis_sagas_*`); uncounted when absent. */
  registry?: Registry;
  /**
   * Shards of the due-time index (SAGA_DUE_SHARDS, 16 by default): part of the key layout, so every
   * orchestrator on one store must use the same count; `start()` refuses another one.
   */
  dueShards?: number;
}

export class SagaOrchestrator {
  private readonly clock: Clock;
  /** The clock when it is a StoreClock (the default): synced with the store's at start and with every look for parked sagas. */
  private readonly storeClock?: StoreClock;
  private readonly versions: DefinitionVersions;
  private readonly parking: SagaParking;
  /** When the sweeper next looks for parked sagas this orchestrator can drive (at its first sweep, then every parkedScanIntervalMs). */
  private nextUnparkAt = 0;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Sagas this process is relaying now, so its own sweeper does not send them a second time. */
  private readonly relaying = new Set<string>();
  /**
   * The record and version this process last wrote for each unfinished saga, so a reply is
   * decided without reading the record back first. Only a hint: the compare-and-set still checks
   * the version, and a conflict (another orchestrator moved the saga) reads the store again.
   */
  private readonly written = new Map<string, Stored>();
  private readonly sweepBackoff = new Backoff({ initialDelayMs: 200, maxDelayMs: 5000, jitter: 0.2 });
  private subscription?: Subscription;
  private sweepTimer?: { clear(): void };
  private stopped = false;
  private readonly metrics?: SagaMetrics;
  private readonly shards: number;
  /** Where this process's sweeps start: orchestrators start at different shards, so they seldom claim from the same one at once. */
  private sweepOffset = Math.floor(Math.random() * 1_000_000);

  constructor(private readonly options: SagaOrchestratorOptions) {
    this.clock = options.clock ?? new StoreClock(options.state);
    if (this.clock instanceof StoreClock) this.storeClock = this.clock;
    this.shards = options.dueShards ?? DEFAULT_DUE_SHARDS;
    if (!Number.isInteger(this.shards) || this.shards < 1) throw new TrellisError(ErrorCode.CONFIG_INVALID, `dueShards must be a whole number of at least 1, got ${this.shards}`);
    if (options.registry) this.metrics = new SagaMetrics(options.registry);
    this.versions = new DefinitionVersions(options.definitions);
    this.parking = new SagaParking({ state: options.state, logger: options.logger, shards: this.shards, now: () => this.clock.now(), metrics: this.metrics });
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.checkLayout();
    await this.storeClock?.sync();
    const participants = new Set(this.versions.all().flatMap((d) => d.steps.map((s) => s.participant)));
    await this.options.events.ensureTopics([SAGA_TOPICS.replies, ...[...participants].map(SAGA_TOPICS.commands)]);
    this.subscription = await this.options.events.subscribe({
      groupId: 'saga-orchestrator',
      topics: [SAGA_TOPICS.replies],
      // Replies sent before this group first existed still count; replies to finished sagas are ignored.
      fromBeginning: true,
      handler: async (message) => this.onReply(parseReply(message.value)),
    });
    this.nextUnparkAt = 0;
    this.scheduleSweep(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sweepTimer?.clear();
    await this.subscription?.stop();
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Creates a saga with its first command in its outbox, in one atomic write, and resolves once
   * that write is durable: the command goes out after (now, or when the bus is back). With an
   * idempotency key, the key is taken first (its own slot on Cluster) and the record written
   * second; a start that stopped between the two is finished by the caller's retry.
   */
  async startSaga<Input>(definitionName: string, input: Input, options: StartSagaOptions = {}): Promise<SagaRecord<Input>> {
    const definition = this.versions.newest(definitionName);
    const id = options.id ?? (this.options.newId ?? randomUUID)();
    const { idempotency } = options;
    if (!idempotency) {
      const started = await this.create(definition, id, input, options);
      if (!started) throw new TrellisError(ErrorCode.BAD_USER_INPUT, `saga ${id} already exists`);
      return started as SagaRecord<Input>;
    }
    const fingerprint = fingerprintOf(definitionName, idempotency.request);
    const key = idempotencyKey(idempotency.scope, idempotency.key);
    const mapping: IdempotencyMapping = { sagaId: id, fingerprint, at: this.clock.now() };
    const taken = await this.options.state.compareAndSetMany([{ key, expectedVersion: 0, value: JSON.stringify(mapping), ttlMs: this.options.idempotencyTtlMs ?? 24 * 3600_000 }]);
    if (!taken) return (await this.existingFor(idempotency.key, key, fingerprint, (mappedId) => this.create(definition, mappedId, input, options))) as SagaRecord<Input>;
    const started = await this.create(definition, id, input, options);
    if (!started) {
      // The id was taken by another saga: the key must not point at it.
      await this.options.state.delete(key);
      throw new TrellisError(ErrorCode.BAD_USER_INPUT, `saga ${id} already exists`);
    }
    return started as SagaRecord<Input>;
  }

  /**
   * The saga an idempotency key already started, before a caller does any work of its own for a
   * start (validation that reads other services): null when the key is free or its start has not
   * written a record yet (the caller's `startSaga` settles that); refused when the key was used
   * for a different request.
   */
  async startedBy(definitionName: string, idempotency: NonNullable<StartSagaOptions['idempotency']>): Promise<SagaRecord | null> {
    const stored = await this.options.state.getVersioned(idempotencyKey(idempotency.scope, idempotency.key));
    if (!stored) return null;
    const mapping = JSON.parse(stored.value) as IdempotencyMapping;
    if (mapping.fingerprint !== fingerprintOf(definitionName, idempotency.request)) throw new IdempotencyKeyReusedError(idempotency.key);
    return this.get(mapping.sagaId);
  }

  /** Writes a new saga's record (null when the id is taken) and relays its first command. */
  private async create(definition: SagaDefinition, id: string, input: unknown, options: StartSagaOptions): Promise<SagaRecord | null> {
    const now = this.clock.now();
    const created = createRecord(definition, id, input, now, options.correlationId);
    if (options.traceparent) created.traceparent = options.traceparent;
    created.version = versionOf(definition);
    if (definition.version !== undefined) created.versionLabel = definition.version;
    const started = withOutbox(begin(definition, created, now));
    const versions = await this.options.state.compareAndSetMany([this.recordWrite(started, 0, now, true)]);
    if (!versions) return null;
    this.remember(started, versions[0]);
    this.logTransition(started);
    this.metrics?.sagaStarted(started, now);
    this.track(this.relay(started, versions[0]));
    return started;
  }

  async get(id: string): Promise<SagaRecord | null> {
    const stored = (await this.options.state.getVersioned(sagaKey(id, this.shards))) ?? (await this.options.state.getVersioned(legacySagaKey(id)));
    return stored ? (JSON.parse(stored.value) as SagaRecord) : null;
  }

  /**
   * Claims the sagas that are due in every shard (and in the index of the layout before shards)
   * and moves each on; returns how many it claimed. Run by the sweeper, callable by tests.
   */
  async sweep(): Promise<number> {
    const now = this.clock.now();
    const claim = { limit: 200, leaseMs: this.options.claimLeaseMs ?? 10_000 };
    // Each sweep starts one shard further on, from a point of its own, so orchestrators sweeping
    // at the same moment mostly claim from different shards first.
    const start = this.sweepOffset++;
    const indexes = [...Array.from({ length: this.shards }, (_, i) => dueIndexKey((start + i) % this.shards)), LEGACY_DUE_INDEX];
    const claimed = (await Promise.all(indexes.map((index) => this.options.state.claimDue(index, now, claim)))).flat();
    // One saga that cannot move (logged by track) never holds back the others.
    await Promise.allSettled(claimed.map((key) => this.track(this.moveOn(sagaIdOfKey(key)))));
    return claimed.length;
  }

  /**
   * The key's saga for a repeated start. A key whose saga has no record yet, taken less than a
   * retention ago (so the record cannot have expired), is a start that stopped between its two
   * writes, or is still writing: the same request creates the saga under the key's id.
   */
  private async existingFor(
    shownKey: string,
    key: string,
    fingerprint: string,
    create: (id: string) => Promise<SagaRecord | null>,
  ): Promise<SagaRecord> {
    const stored = await this.options.state.getVersioned(key);
    if (!stored) throw new TrellisError(ErrorCode.BACKEND_UNAVAILABLE, `idempotency key ${shownKey}: conflicting write, try again`, { retriable: true });
    const mapping = JSON.parse(stored.value) as IdempotencyMapping;
    if (mapping.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError(shownKey);
    const record = await this.get(mapping.sagaId);
    if (record) return record;
    const retention = this.options.retentionMs ?? 7 * 24 * 3600_000;
    if (mapping.at !== undefined && this.clock.now() - mapping.at < retention) {
      const created = (await create(mapping.sagaId)) ?? (await this.get(mapping.sagaId));
      if (created) return created;
    }
    throw new NotFoundError(`saga ${mapping.sagaId} of idempotency key ${shownKey} is no longer kept`);
  }

  /** Refuses to run with another shard count than the store's sagas were filed with. */
  private async checkLayout(): Promise<void> {
    const layout = JSON.stringify({ dueShards: this.shards });
    if (await this.options.state.setIfAbsent(LAYOUT_KEY, layout)) return;
    const found = await this.options.state.get(LAYOUT_KEY);
    if (found !== null && found !== layout) {
      const shards = (JSON.parse(found) as { dueShards: number }).dueShards;
      throw new TrellisError(
        ErrorCode.CONFIG_INVALID,
        `SAGA_DUE_SHARDS=${this.shards}, but the sagas in this state store are filed in ${shards} shards: every orchestrator must use SAGA_DUE_SHARDS=${shards}`,
      );
    }
  }

  /** The definition version that drives `record`; only called for records this orchestrator can drive. */
  private definitionFor(record: SagaRecord): SagaDefinition {
    const resolved = this.versions.forRecord(record);
    if ('parked' in resolved) throw new NotFoundError(`saga ${record.id}: no definition ${record.definition} of version ${record.version ?? 'unversioned'} here`);
    return resolved.definition;
  }

  private async onReply(reply: SagaReply): Promise<void> {
    const remembered = this.written.get(reply.sagaId);
    for (let attempt = 0; attempt < 20; attempt++) {
      const stored = attempt === 0 && remembered ? remembered : await this.readOrPark(reply.sagaId, reply);
      if (stored === 'parked') return;
      if (!stored) {
        this.options.logger.warn({ sagaId: reply.sagaId }, 'reply for an unknown saga ignored');
        return;
      }
      const resolved = this.versions.forRecord(stored.record);
      if ('parked' in resolved) {
        // Kept on the record (and the saga parked): the orchestrator that has its version applies it.
        if (await this.parking.park(reply.sagaId, { value: JSON.stringify(stored.record), version: stored.version }, resolved.parked, reply)) return;
        continue;
      }
      const { definition } = resolved;
      // Once the transition is durable (its outbox with it) the reply is handled: the relay goes on
      // without holding the partition, as after startSaga, and a sweeper sends what a crash left unsent.
      await this.advance(reply.sagaId, (current) => withHeldReplies(definition, current, this.clock.now(), (held) => applyReply(definition, held, reply, this.clock.now())), stored, {
        relayInBackground: true,
      });
      return;
    }
    throw new TrellisError(ErrorCode.BACKEND_UNAVAILABLE, `saga ${reply.sagaId}: too many concurrent updates`, { retriable: true });
  }

  /**
   * The stored record; a record that is not a saga record is parked ('parked') instead, with a
   * reply it cannot take logged (the reply's command is retried after its deadline, and the
   * participant replays its outcome then).
   */
  private async readOrPark(id: string, reply?: SagaReply): Promise<Stored | 'parked' | undefined> {
    try {
      return await this.read(id);
    } catch (error) {
      if (!(error instanceof UnreadableRecordError)) throw error;
      if (reply) this.options.logger.warn({ sagaId: id, stepIndex: reply.stepIndex, action: reply.action }, 'reply for a saga whose record cannot be read dropped');
      await this.parking.park(id, error.stored, 'unreadable');
      return 'parked';
    }
  }

  private async read(id: string): Promise<Stored | undefined> {
    const stored = await this.options.state.getVersioned(sagaKey(id, this.shards));
    if (stored) {
      const record = readable(stored.value);
      if (!record) throw new UnreadableRecordError(id, stored);
      return { record, version: stored.version };
    }
    return this.migrate(id);
  }

  /**
   * A record of the layout before shards, moved to its shard in one write that also takes it out
   * of the old index (both are plain keys on a standalone or Sentinel Redis, the only places
   * that layout ran); undefined when there is none. A lost race reads the moved record.
   */
  private async migrate(id: string): Promise<Stored | undefined> {
    const legacyKey = legacySagaKey(id);
    const legacy = await this.options.state.getVersioned(legacyKey);
    if (!legacy) return undefined;
    const record = JSON.parse(legacy.value) as SagaRecord;
    const versions = await this.options.state.compareAndSetMany([
      this.recordWrite(record, 0, this.clock.now()),
      // Expires at once: the old key is gone, and a late writer of the old layout conflicts.
      { key: legacyKey, expectedVersion: legacy.version, value: legacy.value, ttlMs: 1, due: { index: LEGACY_DUE_INDEX, at: null } },
    ]);
    if (!versions) {
      const moved = await this.options.state.getVersioned(sagaKey(id, this.shards));
      return moved ? { record: JSON.parse(moved.value) as SagaRecord, version: moved.version } : undefined;
    }
    this.options.logger.info({ sagaId: id }, 'saga moved to the sharded layout');
    return { record, version: versions[0] };
  }

  /** Keeps what this process wrote last for an unfinished saga; forgets it once the saga ends. */
  private remember(record: SagaRecord, version: number): void {
    this.written.delete(record.id);
    if (TERMINAL_STATES.has(record.state)) return;
    this.written.set(record.id, { record, version });
    // The oldest entries go first; a saga missing here is read from the store as before.
    if (this.written.size > (this.options.rememberedSagas ?? 10_000)) this.written.delete(this.written.keys().next().value as string);
  }

  /** A due saga: send an outbox left unsent, or tick (a delayed send, a deadline). */
  private async moveOn(id: string): Promise<void> {
    if (this.relaying.has(id)) return;
    const stored = await this.readOrPark(id);
    if (!stored || stored === 'parked') return;
    const { record } = stored;
    if (TERMINAL_STATES.has(record.state)) return;
    const resolved = this.versions.forRecord(record);
    if ('parked' in resolved) {
      this.written.delete(id);
      await this.parking.park(id, { value: JSON.stringify(record), version: stored.version }, resolved.parked);
      return;
    }
    if (record.outbox && record.outbox.length > 0) {
      await this.relay(record, stored.version);
      return;
    }
    const { definition } = resolved;
    await this.advance(id, (current) => withHeldReplies(definition, current, this.clock.now(), (held) => tick(definition, held, this.clock.now())), stored);
  }

  /** Takes back the parked sagas this orchestrator can drive, and drives each now. */
  async unpark(): Promise<number> {
    const leaseUntil = this.clock.now() + (this.options.claimLeaseMs ?? 10_000);
    const taken = await this.parking.unpark((record) => !('parked' in this.versions.forRecord(record)), leaseUntil);
    await Promise.allSettled(taken.map((id) => this.track(this.moveOn(id))));
    return taken.length;
  }

  /**
   * Reads, decides, writes with compare-and-set (record, outbox and due time at once), then relays
   * (awaited, or tracked in the background). On a conflict (another orchestrator or a relay moved
   * first) it reads again and decides again.
   */
  private async advance(
    id: string,
    decide: (record: SagaRecord) => Transition<unknown> | null,
    first?: Stored,
    { relayInBackground = false } = {},
  ): Promise<SagaRecord | null> {
    let stored = first;
    let fresh = first === undefined || first !== this.written.get(id);
    for (let attempt = 0; attempt < 20; attempt++) {
      if (!stored) {
        stored = await this.read(id);
        fresh = true;
      }
      if (!stored) return null;
      const { record } = stored;
      const transition = decide(record);
      if (!transition && !fresh) {
        // Nothing to do on the remembered record: it may be stale (a reply for a step another
        // orchestrator moved to), so decide again on the stored one.
        this.written.delete(id);
        stored = undefined;
        continue;
      }
      if (!transition) return record;
      const next = withOutbox(transition);
      const versions = await this.options.state.compareAndSetMany([this.recordWrite(next, stored.version, this.clock.now(), true)]);
      if (!versions) {
        this.written.delete(id);
        stored = undefined;
        continue;
      }
      this.remember(next, versions[0]);
      this.logTransition(next);
      this.metrics?.sagaMoved(next, this.clock.now());
      if (relayInBackground) this.track(this.relay(next, versions[0]));
      else await this.relay(next, versions[0]);
      return next;
    }
    throw new TrellisError(ErrorCode.BACKEND_UNAVAILABLE, `saga ${id}: too many concurrent updates`, { retriable: true });
  }

  /** Publishes the record's outbox, then marks it sent; a failure leaves it for a sweeper. */
  private async relay(record: SagaRecord, version: number): Promise<void> {
    const outbox = record.outbox ?? [];
    if (outbox.length === 0) return;
    this.relaying.add(record.id);
    try {
      await Promise.all(outbox.map((dispatch) => this.publishCommand(record, dispatch)));
      const sent = markSent(this.definitionFor(record), record, this.clock.now());
      // A conflict means the saga moved on already (a reply can beat this write): nothing to mark.
      const versions = await this.options.state.compareAndSetMany([this.recordWrite(sent, version, this.clock.now())]);
      if (versions && this.written.get(record.id)?.version === version) this.remember(sent, versions[0]);
    } catch (error) {
      if (!isRetriable(error)) throw error;
      this.options.logger.warn({ sagaId: record.id, err: errorMessage(error) }, 'saga commands not sent yet; a sweeper sends them when the bus answers');
    } finally {
      this.relaying.delete(record.id);
    }
  }

  private async publishCommand(record: SagaRecord, { stepIndex, action, attempt }: Dispatch): Promise<void> {
    const step = this.definitionFor(record).steps[stepIndex];
    const command: SagaCommand = {
      sagaId: record.id,
      saga: record.definition,
      step: step.name,
      stepIndex,
      action,
      name: action === 'command' ? step.command : (step.compensation as string),
      attempt,
      payload: step.payload(record.input, record.results),
      deadline: record.steps[stepIndex].expiresAt,
    };
    await this.options.events.publish(SAGA_TOPICS.commands(step.participant), { key: record.id, value: JSON.stringify(command), headers: sagaHeaders(record) });
  }

  /**
   * The record's write: kept for `retentionMs` once terminal, and filed in the due index until
   * then. A transition is announced to watchers (the saga's state-store channel) in the same
   * atomic write; a watcher that misses it reads the record itself.
   */
  private recordWrite(record: SagaRecord, expectedVersion: number, now: number, transition = false): VersionedWrite {
    const terminal = TERMINAL_STATES.has(record.state);
    const unsent = (record.outbox?.length ?? 0) > 0;
    const at = terminal ? null : unsent ? now + (this.options.relayGraceMs ?? 2000) : (nextWakeUp(record) ?? null);
    return {
      key: sagaKey(record.id, this.shards),
      expectedVersion,
      value: JSON.stringify(record),
      ttlMs: terminal ? (this.options.retentionMs ?? 7 * 24 * 3600_000) : undefined,
      due: { index: dueIndexKey(dueShardOf(record.id, this.shards)), at },
      // The write that ends a saga lists it among its shard's recent ones (the console's overview).
      ...(terminal ? { recent: { index: recentIndexKey(dueShardOf(record.id, this.shards)), at: now, keep: RECENT_PER_SHARD } } : {}),
      ...(transition ? { announce: { channel: sagaChannel(record.id), message: JSON.stringify(visibleOf(record)) } } : {}),
    };
  }

  private logTransition(record: SagaRecord): void {
    this.options.logger.info({ sagaId: record.id, state: record.state, step: record.steps[record.cursor]?.name }, 'saga transition');
  }

  private scheduleSweep(delayMs: number): void {
    if (this.stopped) return;
    this.sweepTimer = this.clock.setTimeout(() => {
      Promise.all([this.sweep(), this.unparkIfDue()]).then(
        () => {
          this.sweepBackoff.reset();
          this.scheduleSweep(this.options.sweepIntervalMs ?? 250);
        },
        (error) => {
          const wait = this.sweepBackoff.next();
          if (this.sweepBackoff.consecutiveFailures === 1 || this.sweepBackoff.consecutiveFailures % 20 === 0) {
            this.options.logger.warn({ err: errorMessage(error), failures: this.sweepBackoff.consecutiveFailures, retryInMs: wait }, 'saga sweep failed; retrying');
          }
          this.scheduleSweep(wait);
        },
      );
    }, delayMs);
  }

  /** The sweeper's look for parked sagas, when one is due; its failure is logged and does not fail the sweep. */
  private async unparkIfDue(): Promise<void> {
    const now = this.clock.now();
    if (now < this.nextUnparkAt) return;
    this.nextUnparkAt = now + (this.options.parkedScanIntervalMs ?? 5000);
    await this.storeClock?.sync().catch((error) => this.options.logger.warn({ err: errorMessage(error) }, "reading the state store's clock failed; keeping the last offset"));
    await this.unpark().catch((error) => this.options.logger.warn({ err: errorMessage(error) }, 'looking for parked sagas failed; the sweeper looks again'));
  }

  private track<T>(work: Promise<T>): Promise<T> {
    const tracked = work.catch((error) => {
      this.options.logger.error({ err: errorMessage(error) }, 'saga work failed; the sweeper tries again');
    });
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
    return work;
  }
}

/** What an idempotency key holds: its saga, the request's fingerprint, and when it was taken (absent in keys written before that was kept). */
interface IdempotencyMapping {
  sagaId: string;
  fingerprint: string;
  at?: number;
}

/** A stored record that is not a saga record (corrupted, or written by something else): parked, not retried every lease. */
class UnreadableRecordError extends Error {
  constructor(
    id: string,
    readonly stored: VersionedValue,
  ) {
    super(`saga ${id}: its record cannot be read`);
  }
}

/** A record as this process knows it, with the version a compare-and-set must name. */
interface Stored {
  record: SagaRecord;
  version: number;
}

/** Headers of every command of a saga: its correlation id and trace context. */
export function sagaHeaders(record: SagaRecord): Record<string, string> {
  const headers: Record<string, string> = {};
  if (record.correlationId) headers[CORRELATION_ID_HEADER] = record.correlationId;
  if (record.traceparent) headers[TRACEPARENT_HEADER] = record.traceparent;
  return headers;
}

/** The record once its outbox went out: empty outbox, and the step's deadline counted from the send, not the write. */
function markSent(definition: SagaDefinition, record: SagaRecord, now: number): SagaRecord {
  // Copies only what changes: the record written before is kept as it was (it may be cached).
  const steps = record.steps.map((step, index) =>
    index === record.cursor && step.dispatched && step.deadline !== undefined ? { ...step, deadline: attemptDeadline(definition, index, now, step.expiresAt ?? Infinity) } : step,
  );
  return { ...record, steps, outbox: [] };
}

/** What watchers see of a record: all of it but the outbox. */
function visibleOf(record: SagaRecord): Omit<SagaRecord, 'outbox'> {
  const { outbox: _unsent, ...visible } = record;
  return visible;
}

function withOutbox(transition: Transition<unknown>): SagaRecord {
  return { ...transition.record, outbox: transition.dispatch };
}

function fingerprintOf(definition: string, request: unknown): string {
  return createHash('sha256').update(definition).update('\0').update(canonicalJson(request)).digest('base64url');
}

/** JSON with object keys sorted, so the same request always has the same fingerprint. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
