/**
 * One saga, one trace, across a crash: the orchestrator is SIGKILLed while the first command is being
 * handled, a new one resumes the saga, and every command it sends afterwards (from the trace context
 * kept in the saga record) lands in the same trace in the real Jaeger, next to the first run's. The
 * saga (`crash-0`, a declined card) ends compensated, so the compensation is in the trace too.
 */
import type { ChildProcess } from 'node:child_process';
import { realBackends, uniquePrefix } from '../../support/backends';
import { clientTraceparent, jaeger, waitForTrace, type TraceSpan } from '../../support/jaeger';
import { killChild, readyLine, spawnSagaProcess } from '../../support/processRunner';
import type { SagaRole } from '../../support/sagaProcess';

describe('a saga trace across an orchestrator restart', () => {
  const namespace = uniquePrefix('trace');
  const { traceId, traceparent } = clientTraceparent();
  const children: ChildProcess[] = [];
  const spawn = async (role: SagaRole, extra: Record<string, string> = {}) => {
    const child = spawnSagaProcess(role, {
      redisUrl: realBackends.redisUrl,
      kafkaBrokers: realBackends.kafkaBrokers,
      namespace,
      extra: { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpUrl, OTEL_BSP_SCHEDULE_DELAY: '100', ...extra },
    });
    children.push(child);
    await readyLine(child, role);
    return child;
  };
  afterAll(async () => {
    for (const child of children) await killChild(child);
  });

  it('keeps the commands of the resumed saga in the trace the saga started in', async () => {
    // Participants take a while per command, so the kill lands while the first one is handled.
    for (const role of ['catalog', 'payments', 'orders'] as const) await spawn(role, { SAGA_HANDLER_DELAY_MS: '1500' });
    const first = await spawn('orchestrator', { SAGA_COUNT: '1', SAGA_TRACEPARENT: traceparent });

    const sends = (spans: TraceSpan[]) => spans.filter((span) => span.service === 'saga-orchestrator' && span.kind === 'producer');
    const [sent] = sends(await waitForTrace(traceId, (spans) => (sends(spans).length > 0 ? [] : ['the first command'])));
    await killChild(first);
    await spawn('orchestrator', { SAGA_COUNT: '1' });

    const handled = (spans: TraceSpan[], service: string) => spans.filter((span) => span.service === service && span.kind === 'consumer').length;
    const spans = await waitForTrace(
      traceId,
      (seen) => [
        ...(handled(seen, 'saga-catalog') >= 2 ? [] : ['the stock reserved and then released by saga-catalog']),
        ...(handled(seen, 'saga-payments') >= 1 ? [] : ['the declined charge handled by saga-payments']),
        ...(new Set(sends(seen).map((span) => span.instance)).size >= 2 ? [] : ['commands from a second orchestrator run']),
      ],
      60_000,
    );
    const resumed = sends(spans).filter((span) => span.instance !== sent.instance);
    expect(resumed.length).toBeGreaterThan(0);
    // The resumed run's commands hang off the saga's original parent (the request), as the first run's did.
    for (const command of resumed) expect(command.parentId).toBe(sent.parentId);
    expect(new Set(sends(spans).map((span) => span.tags['messaging.destination.name']))).toEqual(new Set(spans.filter((s) => s.kind === 'consumer' && s.service !== 'saga-orchestrator').map((s) => s.tags['messaging.destination.name'])));
  }, 120_000);
});
