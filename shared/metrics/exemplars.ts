/**
 * Exemplars: a histogram observation made inside a sampled span carries that span's trace_id (and
 * span_id), so a latency bucket in Grafana links to a trace. prom-client keeps exemplars only on an
 * OpenMetrics registry, so a registry made with exemplars speaks OpenMetrics to a scraper that asks
 * for it (Accept: application/openmetrics-text, as Prometheus does) and the classic text format to
 * everyone else, from the same metrics.
 */
import { Registry, type Histogram, type LabelValues, type Metric } from 'prom-client';
import { activeTraceIds } from '../telemetry/spans';

const OPENMETRICS = Registry.OPENMETRICS_CONTENT_TYPE;
const PROMETHEUS = Registry.PROMETHEUS_CONTENT_TYPE;

/** A process's registry; `exemplars` (tracing on) makes it an OpenMetrics registry. */
export class MetricsRegistry extends Registry {
  private labels: object = {};
  /** Each metric's registered name: an OpenMetrics exposition renames counters (`x_total` to `x`) in place. */
  private readonly names = new Map<Metric, string>();
  /** Expositions run one at a time, since they rename the shared metric objects. */
  private last: Promise<unknown> = Promise.resolve();

  constructor(readonly exemplars = false) {
    // @ts-expect-error prom-client's types leave out the constructor's content type (lib/registry.js takes it)
    super(exemplars ? OPENMETRICS : PROMETHEUS);
  }

  override setDefaultLabels(labels: object): void {
    this.labels = labels;
    super.setDefaultLabels(labels);
  }

  override registerMetric(metric: Metric): void {
    super.registerMetric(metric);
    this.names.set(metric, (metric as unknown as { name: string }).name);
  }

  /** The exposition for a scraper's Accept header: OpenMetrics with exemplars when asked (and kept), else the text format. */
  exposition(accept: string | undefined): Promise<{ contentType: string; text: string }> {
    const next = this.last.then(() => this.expose(accept));
    this.last = next.catch(() => undefined);
    return next;
  }

  private async expose(accept: string | undefined): Promise<{ contentType: string; text: string }> {
    if (!this.exemplars) return { contentType: this.contentType, text: await this.metrics() };
    // prom-client names a counter's family without `_total` and its sample with it, as OpenMetrics does.
    if (acceptsOpenMetrics(accept)) return { contentType: OPENMETRICS, text: await this.metrics() };
    // The text format: the registered names back, the same metric objects in a view that prints it
    // (this registry's own format never changes, so a histogram may enable exemplars at any time).
    for (const [metric, name] of this.names) (metric as unknown as { name: string }).name = name;
    const view = Registry.merge([this]);
    view.setContentType(PROMETHEUS);
    view.setDefaultLabels(this.labels);
    return { contentType: PROMETHEUS, text: await view.metrics() };
  }
}

/** True when `registry` keeps exemplars, so a histogram registered there may enable them. */
export function keepsExemplars(registry: Registry): boolean {
  return registry instanceof MetricsRegistry && registry.exemplars;
}

/** Observes `value`, with the active span's trace id as the exemplar when the histogram keeps exemplars. */
export function observeWithTrace<T extends string>(histogram: Histogram<T>, labels: LabelValues<T>, value: number): void {
  if (!(histogram as { enableExemplars?: boolean }).enableExemplars) return histogram.observe(labels, value);
  const ids = activeTraceIds();
  // prom-client types exemplar labels as the metric's own label names; any names are allowed (lib/exemplar.js).
  histogram.observe({ labels, value, exemplarLabels: (ids ?? {}) as LabelValues<T> });
}

function acceptsOpenMetrics(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => {
    const [type, ...params] = part.trim().split(';').map((piece) => piece.trim());
    return type === 'application/openmetrics-text' && !params.includes('q=0');
  });
}
