/**
 * Exemplars on /metrics: with tracing on, a histogram observed inside a span carries its trace id,
 * served as OpenMetrics to a scraper that asks for it (as Prometheus does) with counters named as
 * OpenMetrics names them, and as the classic text format (no exemplars, same series) otherwise.
 */
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram } from 'prom-client';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { createMetricsRegistry, keepsExemplars, mountMetrics, observeWithTrace, type Registry } from '@trellis/kit/internal/metrics';
import { inSpan, startTelemetry, telemetrySettings } from '@trellis/kit/internal/telemetry';

/** What Prometheus 2.x/3.x sends when it scrapes. */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('exemplars on /metrics', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: ReturnType<typeof startTelemetry>;
  const servers: Server[] = [];
  beforeAll(() => {
    telemetry = startTelemetry(telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' }), { serviceName: 'unit', exporter });
  });
  afterAll(async () => {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    await telemetry.stop();
  });

  const serve = async (registry: Registry) => {
    const app = express();
    mountMetrics(app, registry);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    servers.push(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    return async (accept?: string) => {
      const response = await fetch(url, { headers: accept ? { accept } : {} });
      return { type: response.headers.get('content-type'), text: await response.text() };
    };
  };
  const metricsOf = (registry: Registry) => ({
    latency: new Histogram({ name: 'unit_latency_seconds', help: 'latency', labelNames: ['route'], buckets: [0.1, 1], registers: [registry], enableExemplars: keepsExemplars(registry) }),
    requests: new Counter({ name: 'unit_requests_total', help: 'requests', labelNames: ['route'], registers: [registry] }),
  });

  it('serves the trace id of the observing span as an exemplar in OpenMetrics, and the text format without it', async () => {
    const registry = createMetricsRegistry('unit', { exemplars: true });
    const { latency, requests } = metricsOf(registry);
    const traceId = await inSpan('request', {}, async (span) => {
      observeWithTrace(latency, { route: '/a' }, 0.05);
      requests.inc({ route: '/a' });
      return span.spanContext().traceId;
    });
    observeWithTrace(latency, { route: '/b' }, 0.5); // outside any span: no exemplar
    const scrape = await serve(registry);

    const open = await scrape(PROMETHEUS_ACCEPT);
    expect(open.type).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const line = (text: string, start: string, label: string) => text.split('\n').find((row) => row.startsWith(start) && row.includes(label));
    expect(line(open.text, 'unit_latency_seconds_bucket{le="0.1"', 'route="/a"')).toMatch(new RegExp(`\\} 1 # \\{trace_id="${traceId}",span_id="[0-9a-f]{16}"\\} 0.05 \\d+(\\.\\d+)?$`));
    expect(line(open.text, 'unit_latency_seconds_bucket{le="1"', 'route="/b"')).toMatch(/\} 1$/);
    // The counter is family unit_requests with sample unit_requests_total, as OpenMetrics names them.
    expect(open.text).toContain('# TYPE unit_requests counter\n');
    expect(open.text).toMatch(/^unit_requests_total\{route="\/a",service="unit"\} 1$/m);
    expect(open.text).not.toContain('_total_total');
    expect(open.text.endsWith('# EOF\n')).toBe(true);

    const text = await scrape();
    expect(text.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(line(text.text, 'unit_latency_seconds_bucket{le="0.1"', 'route="/a"')).toMatch(/\} 1$/);
    expect(text.text).not.toContain('trace_id');
    expect(text.text).toContain('# TYPE unit_requests_total counter\n');
    expect(text.text).toMatch(/^unit_requests_total\{route="\/a",service="unit"\} 1$/m);
  });

  it('with tracing off, keeps the text format whatever the scraper asks, and histograms without exemplars', async () => {
    const registry = createMetricsRegistry('unit');
    expect(keepsExemplars(registry)).toBe(false);
    const { latency } = metricsOf(registry);
    await inSpan('request', {}, async () => observeWithTrace(latency, { route: '/a' }, 0.05));
    const open = await (await serve(registry))(PROMETHEUS_ACCEPT);
    expect(open.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(open.text).not.toContain('trace_id');
  });

  it('after an OpenMetrics scrape, the text format still names counters as registered (prom-client renames them in place)', async () => {
    const registry = createMetricsRegistry('unit', { exemplars: true });
    metricsOf(registry).requests.inc({ route: '/a' });
    const scrape = await serve(registry);
    const [open, text] = await Promise.all([scrape(PROMETHEUS_ACCEPT), scrape()]);
    expect(open.text).toMatch(/^unit_requests_total\{route="\/a",service="unit"\} 1$/m);
    expect(text.text).toContain('# TYPE unit_requests_total counter\n');
    expect(text.text).toContain('# TYPE trellis_process_process_cpu_user_seconds_total counter\n');
    expect((await scrape(PROMETHEUS_ACCEPT)).text).toContain('# TYPE unit_requests counter\n');
  });
});
