/**
 * Starts tracing for one process: a tracer provider with the configured sampler, batching spans to
 * the OTLP exporter, registered with the W3C trace-context and baggage propagators. Without
 * settings nothing is registered: every span is the API's no-op and nothing leaves the process.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { randomUUID } from 'node:crypto';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { samplerFor } from './sampler';
import type { TelemetrySettings } from './settings';

export interface Telemetry {
  /** True when spans are recorded and exported. */
  readonly enabled: boolean;
  /** Exports what is buffered, then stops (the process's last step). */
  stop(): Promise<void>;
}

export interface TelemetryOptions {
  /** The process's own name, used when OTEL_SERVICE_NAME is unset. */
  serviceName: string;
  /** Where spans go instead of OTLP, each as it ends (tests read them back). */
  exporter?: SpanExporter;
}

const OFF: Telemetry = { enabled: false, stop: async () => {} };

export function startTelemetry(settings: TelemetrySettings | undefined, options: TelemetryOptions): Telemetry {
  if (!settings) return OFF;
  const processor = options.exporter
    ? new SimpleSpanProcessor(options.exporter)
    : new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.tracesUrl }));
  const provider = new NodeTracerProvider({
    // One instance id per process, so two runs of a service (a restart, a replica) stay apart in a trace.
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName ?? options.serviceName, 'service.instance.id': randomUUID() }),
    sampler: samplerFor(settings.sampler),
    spanProcessors: [processor],
  });
  provider.register({
    propagator: new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  });
  return {
    enabled: true,
    async stop() {
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        propagation.disable();
        context.disable();
      }
    },
  };
}
