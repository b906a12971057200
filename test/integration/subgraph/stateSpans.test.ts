/**
 * State-store calls as client spans (db.* conventions) when tracing is on, against the real Redis:
 * each call is a child of the span that made it, names its operation and key, and a failed call is
 * a failed span. With tracing off the backends hand out the adapter itself, unwrapped.
 */
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { connectBackends, type Backends } from '@trellis/kit';
import { loadConfig } from '@trellis/kit';
import { createLogger } from '@trellis/kit';
import { RedisStateStore } from '@trellis/kit/internal/state';
import { inSpan, startTelemetry, telemetrySettings } from '@trellis/kit/internal/telemetry';
import { realBackends, uniquePrefix } from '../../support/backends';

const logger = createLogger({ service: 'test', level: 'silent' });
const OTEL = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' };

describe('state-store spans on the real Redis', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: ReturnType<typeof startTelemetry>;
  const opened: Backends[] = [];
  const connect = async (env: Record<string, string>) => {
    const backends = await connectBackends(loadConfig({ REDIS_URL: realBackends.redisUrl, REDIS_KEY_PREFIX: `${uniquePrefix('spans')}:`, ...env }), logger, { uses: ['state'] });
    opened.push(backends);
    return backends;
  };
  beforeAll(() => {
    telemetry = startTelemetry(telemetrySettings(OTEL), { serviceName: 'orders', exporter });
  });
  afterAll(async () => {
    for (const backends of opened) await backends.close();
    await telemetry.stop();
  });
  beforeEach(() => exporter.reset());

  it('with tracing off, hands out the Redis adapter itself (no wrapper on the hot path)', async () => {
    const { state } = await connect({});
    expect(state).toBeInstanceOf(RedisStateStore);
  });

  it("records each call as a client span under the caller's span, with db.* attributes", async () => {
    const { state } = await connect(OTEL);
    expect(state).not.toBeInstanceOf(RedisStateStore);
    await inSpan('handle', {}, async () => {
      await state.set('greeting', 'hello');
      expect(await state.get('greeting')).toBe('hello');
      expect(await state.compareAndSetMany([{ key: 'record', expectedVersion: 0, value: '{}' }], [{ key: 'other', expectedVersion: 0 }])).toEqual([1]);
    });
    const spans = exporter.getFinishedSpans();
    const handle = spans.find((span) => span.name === 'handle')!;
    const calls = spans.filter((span) => span.name !== 'handle');
    expect(calls.map((span) => span.name)).toEqual(['set', 'get', 'compareAndSetMany']);
    const port = Number(new URL(realBackends.redisUrl).port || 6379);
    for (const call of calls) {
      expect(call.kind).toBe(2); // SpanKind.CLIENT
      expect(call.parentSpanContext?.spanId).toBe(handle.spanContext().spanId);
      expect(call.attributes).toMatchObject({ 'db.system.name': 'redis', 'db.operation.name': call.name, 'server.port': port, 'db.namespace': '0' });
    }
    expect(calls[1].attributes['trellis.state.key']).toBe('greeting');
    expect(calls[2].attributes['db.operation.batch.size']).toBe(2);
  });

  it('marks a failed call as a failed span', async () => {
    const { state } = await connect(OTEL);
    await state.compareAndSet('counter', 0, 'a');
    // A versioned key read as a plain one is a Redis WRONGTYPE error.
    await expect(state.get('counter')).rejects.toThrow();
    const failed = exporter.getFinishedSpans().find((span) => span.name === 'get')!;
    expect(failed.status.code).toBe(2); // SpanStatusCode.ERROR
  });
});
