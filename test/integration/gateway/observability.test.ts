/**
 * What docs/observability.md promises an operator sees: every metric it lists is exported at the admin
 * listener's /metrics (a missing one fails, it never reads as 0), and every subgraph call carries the
 * W3C context of the gateway's attempt span when tracing is on: the caller's trace, or a new one when
 * the caller sent none. With tracing off nothing is made up: the caller's traceparent passes as it came.
 */
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { startTelemetry, telemetrySettings } from '@trellis/kit/internal/telemetry';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { usersSubgraph, typeDefs as usersSdl } from '../../../subgraphs/users';
import type { Subgraph } from '@trellis/kit';
import { postGraphQL } from '../../support/graphql';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

/** The metric names of docs/observability.md's **Metrics** paragraph, without labels. */
function documentedMetricNames(): string[] {
  const doc = readFileSync(path.join(ROOT, 'docs', 'observability.md'), 'utf8');
  const paragraph = doc.slice(doc.indexOf('**Metrics**'), doc.indexOf('and the Node process metrics'));
  const names = [...paragraph.matchAll(/`([a-z_]+)(?:\{[^}]*\})?`/g)].map((match) => match[1]).filter((name) => name !== 'trellis_' && name !== 'kind' && name !== 'subgraph' && name !== 'guard');
  return [...new Set(names)];
}

describe('gateway observability', () => {
  let users: Subgraph;
  let proxy: Server;
  let gateway: InProcessGateway;
  let supergraphPath: string;
  const seen: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    users = await startSubgraph(usersSubgraph, {});
    // A recording hop in front of the users subgraph: what the gateway sends is what it sees.
    proxy = createServer((req, res) => {
      seen.push(req.headers);
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', async () => {
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !['host', 'content-length', 'connection'].includes(name))) as Record<string, string>;
        const upstream = await fetch(users.url, { method: req.method, headers, body });
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(await upstream.text());
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const composed = composeSupergraph([{ name: 'users', sdl: usersSdl, url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/graphql` }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-obs-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
    gateway = await startGateway({ SUPERGRAPH_PATH: supergraphPath });
  });
  afterAll(async () => {
    await gateway.stop();
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
    await users.stop();
  });

  it("with tracing off, passes the caller's traceparent unchanged and makes none up", async () => {
    seen.length = 0;
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await postGraphQL(gateway.url, '{ user(id: "u1") { name } }', { headers: { traceparent } });
    await postGraphQL(gateway.url, '{ user(id: "u2") { name } }');
    expect(seen.map((headers) => headers.traceparent)).toEqual([traceparent, undefined]);
  });

  describe('with tracing on', () => {
    const exporter = new InMemorySpanExporter();
    const OTEL = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' };
    let telemetry: ReturnType<typeof startTelemetry>;
    let traced: InProcessGateway;
    beforeAll(async () => {
      telemetry = startTelemetry(telemetrySettings(OTEL), { serviceName: 'gateway', exporter });
      // A gateway configured for tracing (OTEL_* set): only then does it build spans.
      traced = await startGateway({ SUPERGRAPH_PATH: supergraphPath, ...OTEL });
    });
    afterAll(async () => {
      await traced.stop();
      await telemetry.stop();
    });

    it("continues the caller's trace with the span of the gateway's attempt on the subgraph", async () => {
      seen.length = 0;
      exporter.reset();
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const answer = await postGraphQL(traced.url, '{ user(id: "u1") { name } }', { headers: { traceparent } });
      expect(answer.body.data).toEqual({ user: { name: 'Ada Lovelace' } });
      expect(seen).toHaveLength(1);
      const [, trace, span] = TRACEPARENT.exec(String(seen[0].traceparent))!;
      expect(trace).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      const attempt = exporter.getFinishedSpans().find((finished) => finished.name === 'POST users')!;
      expect(attempt.spanContext().spanId).toBe(span);
      expect(attempt.attributes).toMatchObject({ 'trellis.subgraph.name': 'users', 'trellis.fetch.attempt': 1, 'trellis.breaker.state': 'closed' });
    });

    it("puts the request's trace id on its latency bucket and its fetch's, as exemplars a scraper asking for OpenMetrics gets", async () => {
      const traceId = 'abcdef0123456789abcdef0123456789';
      await postGraphQL(traced.url, 'query Exemplary { user(id: "u1") { name } }', { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
      const scrape = await fetch(`${traced.server.admin.url}/metrics`, { headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' } });
      expect(scrape.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
      const text = await scrape.text();
      const exemplar = (metric: string, label: string) => text.split('\n').find((line) => line.startsWith(`${metric}_bucket{`) && line.includes(label) && line.includes(' # {'));
      expect(exemplar('trellis_gateway_request_duration_seconds', 'operation="Exemplary"')).toContain(`trace_id="${traceId}"`);
      expect(exemplar('trellis_subgraph_fetch_duration_seconds', 'subgraph="users"')).toMatch(/trace_id="[0-9a-f]{32}"/);
      // Without asking, the classic text format, with the same series and no exemplars.
      const plain = await (await fetch(`${traced.server.admin.url}/metrics`)).text();
      expect(plain).toContain('trellis_gateway_requests_total{operation="Exemplary",outcome="success",service="gateway"} 1');
      expect(plain).not.toContain('trace_id');
    });

    it('starts a new trace for a caller that sent none, a different one per request', async () => {
      seen.length = 0;
      await postGraphQL(traced.url, '{ user(id: "u1") { name } }');
      await postGraphQL(traced.url, '{ user(id: "u2") { name } }');
      expect(seen).toHaveLength(2);
      const traces = seen.map((headers) => TRACEPARENT.exec(String(headers.traceparent))?.[1]);
      expect(traces[0]).toMatch(/^[0-9a-f]{32}$/);
      expect(traces[0]).not.toMatch(/^0+$/);
      expect(traces[1]).not.toBe(traces[0]);
    });
  });

  it('exports every metric docs/observability.md lists at /metrics', async () => {
    const names = documentedMetricNames();
    expect(names.length).toBeGreaterThanOrEqual(13);
    await postGraphQL(gateway.url, '{ user(id: "u1") { name } }');
    const text = await (await fetch(`${gateway.server.admin.url}/metrics`)).text();
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]));
    expect(names.map((name) => `trellis_${name}`).filter((name) => !exported.has(name))).toEqual([]);
    expect([...exported].some((name) => name.startsWith('trellis_process_'))).toBe(true);
  });
});
