import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { activeTraceIds, extractTrace, injectTrace, inSpan, startTelemetry, telemetrySettings } from '@trellis/kit/internal/telemetry';
import { recordingLogger } from '../../../support/recordingLogger';

const settings = telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' })!;
const CALLER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('tracing off (no settings)', () => {
  it('registers nothing: spans do not record, no trace headers are written, logs carry no ids', async () => {
    const telemetry = startTelemetry(undefined, { serviceName: 'test' });
    expect(telemetry.enabled).toBe(false);
    const { logger, lines } = recordingLogger();
    await inSpan('work', {}, async (span) => {
      expect(span.isRecording()).toBe(false);
      expect(injectTrace({})).toEqual({});
      expect(activeTraceIds()).toBeUndefined();
      logger.info('inside');
    });
    // A caller's own traceparent passes untouched: nothing replaces it.
    expect(injectTrace({ traceparent: CALLER })).toEqual({ traceparent: CALLER });
    expect(lines[0]).not.toHaveProperty('trace_id');
    await telemetry.stop();
  });
});

describe('tracing on', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: ReturnType<typeof startTelemetry>;
  beforeAll(() => {
    telemetry = startTelemetry(settings, { serviceName: 'unit-service', exporter });
  });
  afterAll(async () => telemetry.stop());
  beforeEach(() => exporter.reset());

  it("continues a caller's W3C context, writes its own span into outgoing headers, and names the service", async () => {
    expect(telemetry.enabled).toBe(true);
    let outgoing: Record<string, string> = {};
    await inSpan('handle', { parent: extractTrace({ traceparent: CALLER }) }, async () => {
      outgoing = injectTrace({});
    });
    const [span] = exporter.getFinishedSpans();
    expect(span.name).toBe('handle');
    expect(span.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(outgoing.traceparent).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${span.spanContext().spanId}-01`);
    expect(span.resource.attributes['service.name']).toBe('unit-service');
  });

  it('puts trace_id and span_id on log lines written inside a span, and none outside', async () => {
    const { logger, lines } = recordingLogger();
    await inSpan('logged', {}, async () => logger.info('inside'));
    logger.info('outside');
    const [span] = exporter.getFinishedSpans();
    expect(lines[0]).toMatchObject({ msg: 'inside', trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
    expect(lines[1]).not.toHaveProperty('trace_id');
  });

  it('records a throw as the span error and rethrows it', async () => {
    await expect(inSpan('fails', {}, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const [span] = exporter.getFinishedSpans();
    expect(span.status).toEqual({ code: 2, message: 'boom' });
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
  });

  it('after stop, spans no longer record (the globals are released)', async () => {
    await telemetry.stop();
    await inSpan('after', {}, async (span) => expect(span.isRecording()).toBe(false));
    expect(exporter.getFinishedSpans()).toEqual([]);
    telemetry = startTelemetry(settings, { serviceName: 'unit-service', exporter });
    await inSpan('again', {}, async (span) => expect(span.isRecording()).toBe(true));
  });
});
