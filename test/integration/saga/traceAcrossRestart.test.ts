/**
 * One saga, one trace, across a crash: the orchestrator is SIGKILLed while the saga's first command
 * is out and unanswered, a new one resumes the saga, and every command it sends afterwards (from
 * the trace context kept in the saga record) lands in the same trace in the real Jaeger, next to
 * the first run's. The saga (`crash-0`, a declined card) ends compensated, so the compensation is in
 * the trace too.
 *
 * What a killed process had not exported yet is lost with it, so the kill is placed where nothing
 * the test asserts can be lost: after the first command's send is in Jaeger, and before any reply
 * (catalog starts only after the kill). Spans are then read by polling until every one asserted is in.
 */
import type { ChildProcess } from 'node:child_process';
import { createLogger } from '@trellis/kit';
import { sagaKey, TERMINAL_STATES, type SagaRecord } from '@trellis/kit/saga';
import { RedisStateStore } from '@trellis/kit/internal/state';
import { realBackends, uniquePrefix } from '../../support/backends';
import { eventually } from '../../support/graphql';
import { clientTraceparent, expectTrace, jaeger, type TraceSpan } from '../../support/jaeger';
import { killChild, outputTail, readyLine, spawnSagaProcess } from '../../support/processRunner';
import type { SagaRole } from '../../support/sagaProcess';

const COMMANDS = 'saga.commands.';
/** Deadlines far beyond the test's waits: the saga moves on replies only, never on a timeout. */
const TIMINGS = JSON.stringify({ stepTimeoutMs: 60_000, retry: { maxAttempts: 3, backoffMs: 200, maxBackoffMs: 1000 } });

describe('a saga trace across an orchestrator restart', () => {
  const namespace = uniquePrefix('trace');
  const { traceId, traceparent } = clientTraceparent();
  const children: ChildProcess[] = [];
  /** What each child printed (its warnings and errors), by role, for the message of a failed wait. */
  const printed: Array<{ role: SagaRole; tail: () => string }> = [];
  const state = new RedisStateStore({ url: realBackends.redisUrl, logger: createLogger({ service: 'trace-test', level: 'silent' }), keyPrefix: `${namespace}:` });
  const spawn = async (role: SagaRole, extra: Record<string, string> = {}) => {
    const child = spawnSagaProcess(role, {
      redisUrl: realBackends.redisUrl,
      kafkaBrokers: realBackends.kafkaBrokers,
      namespace,
      extra: { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpUrl, OTEL_BSP_SCHEDULE_DELAY: '100', SAGA_TIMINGS: TIMINGS, LOG_LEVEL: 'info', ...extra },
    }, 'pipe');
    children.push(child);
    printed.push({ role, tail: outputTail(child) });
    await readyLine(child, role);
    return child;
  };
  const saga = async () => {
    const stored = await state.getVersioned(sagaKey('crash-0'));
    return stored ? (JSON.parse(stored.value) as SagaRecord) : null;
  };
  /** Runs a wait; if it fails, its error carries the saga record and what every child printed. */
  const explained = async <T>(wait: () => Promise<T>): Promise<T> => {
    try {
      return await wait();
    } catch (error) {
      const record = JSON.stringify(await saga().catch((failure: unknown) => `unreadable: ${String(failure)}`), null, 1);
      const outputs = printed.map(({ role, tail }, k) => `--- ${role} (child ${k + 1}) ---\n${tail()}`).join('\n');
      (error as Error).message += `\n\nsaga record: ${record}\n\n${outputs}`;
      throw error;
    }
  };
  afterAll(async () => {
    for (const child of children) await killChild(child);
    await state.close();
  });

  it('keeps the commands of the resumed saga in the trace the saga started in', async () => {
    for (const role of ['payments', 'orders'] as const) await spawn(role);
    const first = await spawn('orchestrator', { SAGA_COUNT: '1', SAGA_TRACEPARENT: traceparent });

    const sends = (spans: TraceSpan[]) => spans.filter((span) => span.service === 'saga-orchestrator' && span.kind === 'producer');
    const topicOf = (span: TraceSpan) => span.tags['messaging.destination.name'] as string;
    // The first command's send is in Jaeger (so the kill cannot lose it), and the saga waits on it.
    const sent = await expectTrace(traceId, (spans) => {
      expect(new Set(sends(spans).map(topicOf))).toEqual(new Set([`${COMMANDS}catalog`]));
      return sends(spans)[0];
    });
    expect((await saga())?.steps.map((step) => step.state)).toEqual(['RUNNING', 'PENDING', 'PENDING']);
    await killChild(first);

    await spawn('catalog');
    await spawn('orchestrator', { SAGA_COUNT: '1' });
    // The declined card: stock reserved, the charge refused, the reservation released.
    await explained(() =>
      eventually(async () => {
        const record = await saga();
        expect(record && TERMINAL_STATES.has(record.state) ? 'terminal' : record?.state).toBe('terminal');
      }, 90_000, 250),
    );
    expect((await saga())?.steps.map((step) => step.state)).toEqual(['COMPENSATED', 'FAILED', 'PENDING']);

    await expectTrace(
      traceId,
      (spans) => {
        const resumed = sends(spans).filter((span) => span.instance !== sent.instance);
        // The resumed run sent the charge and the release.
        expect(new Set(resumed.map(topicOf))).toEqual(new Set([`${COMMANDS}catalog`, `${COMMANDS}payments`]));
        // Its commands hang off the saga's original parent (the request), as the first run's did.
        expect(resumed.map((command) => command.parentId)).toEqual(resumed.map(() => sent.parentId));
        // Every command either run sent was handled by its participant in this trace, as the child of its send.
        const handledBy = (command: TraceSpan) => spans.some((span) => span.kind === 'consumer' && span.service === `saga-${topicOf(command).slice(COMMANDS.length)}` && span.parentId === command.spanId);
        expect(sends(spans).filter((command) => !handledBy(command)).map(topicOf)).toEqual([]);
        // Reservation and release both reached catalog; the charge reached payments.
        expect(spans.filter((span) => span.kind === 'consumer' && span.service === 'saga-catalog').length).toBeGreaterThanOrEqual(2);
        expect(spans.filter((span) => span.kind === 'consumer' && span.service === 'saga-payments').length).toBeGreaterThanOrEqual(1);
      },
      60_000,
    );
  }, 180_000);
});
