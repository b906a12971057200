/**
 * Spans mark what the entity cache served: an `_entities` fetch's `fetch <subgraph>` span says how
 * many entities came from the cache and how many were asked of the subgraph, a fetch the cache
 * answered whole has no `POST <subgraph>` span under it (nothing was sent), and a query answered
 * whole has a `gateway.entity_cache.response` span and no plan or fetch span.
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { startTelemetry, telemetrySettings } from '@trellis/kit/internal/telemetry';
import { randomUUID } from 'node:crypto';
import { eventually, postGraphQL } from '../../support/graphql';
import { startGateway, type InProcessGateway } from '../../support/inProcess';
import { startEntityCacheGraph, type EntityCacheGraph } from '../../support/entityCacheGraph';
import { RESPONSE_ATTRIBUTES, RESPONSE_SPAN } from '../../../gateway/entityCache/responseTier';

const OTEL = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' };
const QUERY = 'query ($upcs: [ID!]!) { products(upcs: $upcs) { upc inStock } }';

describe('entity cache spans', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: ReturnType<typeof startTelemetry>;
  let graph: EntityCacheGraph;
  let gateway: InProcessGateway;

  beforeAll(async () => {
    telemetry = startTelemetry(telemetrySettings(OTEL), { serviceName: 'test', exporter });
    graph = await startEntityCacheGraph();
    gateway = await startGateway({ SUPERGRAPH_PATH: graph.supergraphPath, ENTITY_CACHE: 'on', ENTITY_CACHE_PREFIX: `test:entity-spans:${randomUUID()}:`, ...OTEL });
  });
  afterAll(async () => {
    await gateway?.stop();
    await graph?.stop();
    await telemetry.stop();
  });

  /** The `fetch stock` span of the request (its server span ended), and the `POST stock` spans under it. */
  const stockFetch = async (upcs: string[]) => {
    exporter.reset();
    const { body } = await postGraphQL(gateway.url, QUERY, { variables: { upcs } });
    expect(body.errors).toBeUndefined();
    const fetch = await eventually(async () => {
      const spans = exporter.getFinishedSpans();
      const found = spans.filter((span) => span.name === 'fetch stock');
      expect(found).toHaveLength(1);
      return { span: found[0], spans };
    });
    const posts = fetch.spans.filter((span: ReadableSpan) => span.name === 'POST stock' && span.parentSpanContext?.spanId === fetch.span.spanContext().spanId);
    return { attributes: fetch.span.attributes, posts: posts.length };
  };

  it('counts hits and misses on the fetch span; a fetch served whole sends nothing', async () => {
    expect(await stockFetch(['1', '2'])).toEqual({ attributes: expect.objectContaining({ 'trellis.entity_cache.hits': 0, 'trellis.entity_cache.misses': 2 }), posts: 1 });
    expect(await stockFetch(['1', '3'])).toEqual({ attributes: expect.objectContaining({ 'trellis.entity_cache.hits': 1, 'trellis.entity_cache.misses': 1 }), posts: 1 });
    expect(await stockFetch(['3', '2', '1'])).toEqual({ attributes: expect.objectContaining({ 'trellis.entity_cache.hits': 3, 'trellis.entity_cache.misses': 0 }), posts: 0 });
  });

  it('marks a query answered whole with its own span, and plans and fetches nothing', async () => {
    const ask = async () => {
      exporter.reset();
      const { body } = await postGraphQL(gateway.url, QUERY, { variables: { upcs: ['7', '8'] } });
      expect(body.errors).toBeUndefined();
      // The request's own server span ends last: once it is exported, every span of the request is.
      return eventually(async () => {
        const spans = exporter.getFinishedSpans();
        expect(spans.some((span) => span.name === 'POST /graphql')).toBe(true);
        return spans.map((span) => span.name);
      });
    };
    const first = await ask();
    expect(first).toEqual(expect.arrayContaining(['gateway.plan', 'fetch shelf', 'fetch stock']));
    expect(first).not.toContain(RESPONSE_SPAN);
    const second = await ask();
    expect(second).toContain(RESPONSE_SPAN);
    expect(second.filter((name) => name === 'gateway.plan' || name.startsWith('fetch '))).toEqual([]);
    const span = exporter.getFinishedSpans().find((found) => found.name === RESPONSE_SPAN);
    expect(span?.attributes).toEqual({ [RESPONSE_ATTRIBUTES.tier]: 'local' });
  });
});
