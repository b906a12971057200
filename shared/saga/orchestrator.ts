/**
 * Runs sagas: keeps each one as a versioned record in the state store (compare-and-set on every
 * transition, so two orchestrators never both advance one saga), sends step commands to
 * `saga.commands.<participant>`, reads replies from `saga.replies`, and publishes every
 * transition to `saga.events` (and the state store channel `saga:<id>`). On start it resumes
 * every saga that is not finished and re-arms its timers from the deadlines in the record.
 */
import { randomUUID } from 'node:crypto';
import type { EventBus, Subscription } from '../events';
import type { StateStore } from '../state';
import type { Logger } from '../logging';
import { CORRELATION_ID_HEADER } from '../logging';
import { errorMessage, NotFoundError } from '../errors';
import { systemClock, type Clock } from './clock';
import { applyReply, begin, createRecord, nextWakeUp, tick, type Dispatch, type Transition } from './machine';
import { SAGA_TOPICS, TERMINAL_STATES, type SagaCommand, type SagaDefinition, type SagaRecord, type SagaReply } from './types';
import { parseReply } from './wire';

export const sagaKey = (id: string) => `saga:record:${id}`;
export const sagaChannel = (id: string) => `saga:${id}`;
const SAGA_PREFIX = 'saga:record:';

export interface SagaOrchestratorOptions {
  state: StateStore;
  events: EventBus;
  logger: Logger;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  definitions: Array<SagaDefinition<any>>;
  clock?: Clock;
  newId?: () => string;
  /** How long a finished saga's record is kept. */
  retentionMs?: number;
}

export class SagaOrchestrator {
  private readonly clock: Clock;
  private readonly timers = new Map<string, { clear(): void }>();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly definitions = new Map<string, SagaDefinition<any>>();
  private subscription?: Subscription;
  private stopped = false;

  constructor(private readonly options: SagaOrchestratorOptions) {
    this.clock = options.clock ?? systemClock;
    for (const definition of options.definitions) this.definitions.set(definition.name, definition);
  }

  async start(): Promise<void> {
    const participants = new Set(this.options.definitions.flatMap((d) => d.steps.map((s) => s.participant)));
    await this.options.events.ensureTopics([SAGA_TOPICS.replies, SAGA_TOPICS.events, ...[...participants].map(SAGA_TOPICS.commands)]);
    this.subscription = await this.options.events.subscribe({
      groupId: 'saga-orchestrator',
      topics: [SAGA_TOPICS.replies],
      // Replies sent before this group first existed still count; replies to finished sagas are ignored.
      fromBeginning: true,
      handler: async (message) => this.onReply(parseReply(message.value)),
      maxAttempts: 5,
    });
    await this.resume();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) timer.clear();
    this.timers.clear();
    await this.subscription?.stop();
  }

  /** Creates a saga and sends its first command; resolves with the record as stored. */
  async startSaga<Input>(definitionName: string, input: Input, options: { id?: string; correlationId?: string } = {}): Promise<SagaRecord<Input>> {
    const definition = this.definition(definitionName);
    const id = options.id ?? (this.options.newId ?? randomUUID)();
    const created = createRecord(definition, id, input, this.clock.now(), options.correlationId);
    const version = await this.options.state.compareAndSet(sagaKey(id), 0, JSON.stringify(created));
    if (version === null) throw new Error(`saga ${id} already exists`);
    await this.announce(created);
    const started = await this.advance(id, (record) => (record.state === 'PENDING' ? begin(definition, record, this.clock.now()) : null));
    return (started ?? created) as SagaRecord<Input>;
  }

  async get(id: string): Promise<SagaRecord | null> {
    const stored = await this.options.state.getVersioned(sagaKey(id));
    return stored ? (JSON.parse(stored.value) as SagaRecord) : null;
  }

  private definition(name: string): SagaDefinition {
    const definition = this.definitions.get(name);
    if (!definition) throw new NotFoundError(`no saga definition named ${name}`);
    return definition;
  }

  private async onReply(reply: SagaReply): Promise<void> {
    const record = await this.get(reply.sagaId);
    if (!record) {
      this.options.logger.warn({ sagaId: reply.sagaId }, 'reply for an unknown saga ignored');
      return;
    }
    const definition = this.definition(record.definition);
    await this.advance(reply.sagaId, (current) => applyReply(definition, current, reply, this.clock.now()));
  }

  /** Resumes every unfinished saga: re-arms its timer, which sends what is due and times out what is overdue. */
  private async resume(): Promise<void> {
    const keys = await this.options.state.keys(SAGA_PREFIX);
    let resumed = 0;
    for (const key of keys) {
      const record = await this.get(key.slice(SAGA_PREFIX.length));
      if (!record || TERMINAL_STATES.has(record.state)) continue;
      resumed += 1;
      if (record.state === 'PENDING') {
        const definition = this.definition(record.definition);
        await this.advance(record.id, (current) => (current.state === 'PENDING' ? begin(definition, current, this.clock.now()) : null));
      } else {
        this.arm(record);
      }
    }
    if (resumed > 0) this.options.logger.info({ resumed }, 'resumed unfinished sagas');
  }

  /**
   * Reads, decides, writes with compare-and-set, then sends and announces. On a conflict
   * (another orchestrator moved first) it reads again and decides again.
   */
  private async advance(id: string, decide: (record: SagaRecord) => Transition<unknown> | null): Promise<SagaRecord | null> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const stored = await this.options.state.getVersioned(sagaKey(id));
      if (!stored) return null;
      const record = JSON.parse(stored.value) as SagaRecord;
      const transition = decide(record);
      if (!transition) {
        this.arm(record);
        return record;
      }
      const terminal = TERMINAL_STATES.has(transition.record.state);
      const version = await this.options.state.compareAndSet(sagaKey(id), stored.version, JSON.stringify(transition.record), {
        ttlMs: terminal ? (this.options.retentionMs ?? 7 * 24 * 3600_000) : undefined,
      });
      if (version === null) continue;
      await this.send(transition.record, transition.dispatch);
      await this.announce(transition.record);
      this.arm(transition.record);
      return transition.record;
    }
    throw new Error(`saga ${id}: too many concurrent updates`);
  }

  private arm(record: SagaRecord): void {
    this.timers.get(record.id)?.clear();
    this.timers.delete(record.id);
    const wakeAt = nextWakeUp(record);
    if (wakeAt === undefined || this.stopped) return;
    const definition = this.definition(record.definition);
    this.timers.set(
      record.id,
      this.clock.setTimeout(() => {
        this.timers.delete(record.id);
        this.advance(record.id, (current) => tick(definition, current, this.clock.now())).catch((error) =>
          this.options.logger.error({ sagaId: record.id, err: errorMessage(error) }, 'saga timer failed; retrying'),
        );
      }, wakeAt - this.clock.now()),
    );
  }

  private async send(record: SagaRecord, dispatches: Dispatch[]): Promise<void> {
    const definition = this.definition(record.definition);
    for (const { stepIndex, action, attempt } of dispatches) {
      const step = definition.steps[stepIndex];
      const command: SagaCommand = {
        sagaId: record.id,
        saga: record.definition,
        step: step.name,
        stepIndex,
        action,
        name: action === 'command' ? step.command : (step.compensation as string),
        attempt,
        payload: step.payload(record.input, record.results),
      };
      // If this send fails, the step's deadline passes and the timer sends it again.
      await this.options.events
        .publish(SAGA_TOPICS.commands(step.participant), { key: record.id, value: JSON.stringify(command), headers: this.headers(record) })
        .catch((error) => this.options.logger.warn({ sagaId: record.id, err: errorMessage(error) }, 'command not sent; will retry at its deadline'));
    }
  }

  private async announce(record: SagaRecord): Promise<void> {
    const value = JSON.stringify(record);
    await Promise.all([
      this.options.events.publish(SAGA_TOPICS.events, { key: record.id, value, headers: this.headers(record) }),
      this.options.state.publish(sagaChannel(record.id), value),
    ]).catch((error) => this.options.logger.warn({ sagaId: record.id, err: errorMessage(error) }, 'saga event not published'));
    this.options.logger.info({ sagaId: record.id, state: record.state, step: record.steps[record.cursor]?.name }, 'saga transition');
  }

  private headers(record: SagaRecord): Record<string, string> {
    return record.correlationId ? { [CORRELATION_ID_HEADER]: record.correlationId } : {};
  }
}
