/**
 * Process-wide tracing into memory for one describe block: telemetry started before its tests
 * (exporting nowhere else), the recorded spans cleared before each test, telemetry stopped after.
 * Call it at the top of a `describe`; read `exporter.getFinishedSpans()`.
 */
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { startTelemetry, telemetrySettings } from '@trellis/kit/internal/telemetry';

export function recordSpans(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  let telemetry: ReturnType<typeof startTelemetry>;
  beforeAll(() => {
    telemetry = startTelemetry(telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' }), { serviceName: 'unit', exporter });
  });
  afterAll(() => telemetry.stop());
  beforeEach(() => exporter.reset());
  return exporter;
}
