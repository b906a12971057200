import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-node';
import { loadConfig } from '@trellis/kit/internal/config';
import { samplerFor, telemetrySettings } from '@trellis/kit/internal/telemetry';

describe('tracing settings from the OTEL_* variables', () => {
  it('is off when no endpoint is set, or the SDK or the exporter is switched off', () => {
    expect(telemetrySettings({})).toBeUndefined();
    expect(telemetrySettings({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' })).toBeUndefined();
    expect(telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(loadConfig({}).telemetry).toBeUndefined();
  });

  it('sends traces to <endpoint>/v1/traces, or to the traces endpoint as given, parent-based always-on by default', () => {
    expect(telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({
      tracesUrl: 'http://collector:4318/v1/traces',
      serviceName: undefined,
      sampler: { kind: 'parentbased_always_on', ratio: 1 },
    });
    expect(telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/traces' })?.tracesUrl).toBe('http://b:9999/traces');
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_SERVICE_NAME: 'edge', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }).telemetry).toEqual({
      tracesUrl: 'http://a:4318/v1/traces',
      serviceName: 'edge',
      sampler: { kind: 'parentbased_traceidratio', ratio: 0.1 },
    });
  });

  it('refuses a sampler, ratio, exporter or endpoint it cannot honour, naming the variable', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' };
    expect(() => telemetrySettings({ ...endpoint, OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER="sometimes"/);
    expect(() => telemetrySettings({ ...endpoint, OTEL_TRACES_SAMPLER_ARG: '1.5' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(() => telemetrySettings({ ...endpoint, OTEL_TRACES_SAMPLER_ARG: 'half' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(() => telemetrySettings({ ...endpoint, OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/OTEL_TRACES_EXPORTER/);
    expect(() => telemetrySettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' })).toThrow(/not a URL/);
  });
});

describe('samplers', () => {
  const decide = (kind: Parameters<typeof samplerFor>[0]['kind'], ratio: number, parent: 'none' | 'sampled' | 'unsampled', traceId = 'ffffffffffffffffffffffffffffffff') => {
    const context =
      parent === 'none'
        ? ROOT_CONTEXT
        : trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: '00f067aa0ba902b7', traceFlags: parent === 'sampled' ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true });
    return samplerFor({ kind, ratio }).shouldSample(context, traceId, 'span', SpanKind.SERVER, {}, []).decision;
  };
  const sampled = SamplingDecision.RECORD_AND_SAMPLED;

  it('parent-based ratio: a new trace by the ratio, a caller-sampled trace stays sampled, an unsampled one stays unsampled', () => {
    expect(decide('parentbased_traceidratio', 0, 'none')).not.toBe(sampled);
    expect(decide('parentbased_traceidratio', 1, 'none', '0000000000000000000000000000000a')).toBe(sampled);
    expect(decide('parentbased_traceidratio', 0, 'sampled')).toBe(sampled);
    expect(decide('parentbased_traceidratio', 1, 'unsampled')).not.toBe(sampled);
  });

  it('a plain ratio ignores the parent; always_on and always_off do what they say', () => {
    expect(decide('traceidratio', 0, 'sampled')).not.toBe(sampled);
    expect(decide('always_on', 0, 'unsampled')).toBe(sampled);
    expect(decide('always_off', 1, 'sampled')).not.toBe(sampled);
    expect(decide('parentbased_always_off', 1, 'none')).not.toBe(sampled);
    expect(decide('parentbased_always_on', 0, 'none')).toBe(sampled);
  });
});
