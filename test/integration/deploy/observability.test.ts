/**
 * The observability kept in the repo, checked against the platform itself: the Grafana dashboard
 * (deploy/grafana/dashboards) reads only metrics and labels that the processes `npm start` runs
 * export on their /metrics, Prometheus (deploy/prometheus/prometheus.yml) scrapes every platform
 * service of docker-compose.yml on the port that serves its /metrics, Grafana's provisioning
 * points at the dashboard and at the Prometheus and Jaeger of compose, and every platform service
 * sends its traces to compose's Jaeger under its own name.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '@trellis/kit';
import { EDGE, GATEWAY, SUBGRAPHS } from '../../../scripts/launcher/services';
import { composeConfig, ROOT, type ComposeService } from '../../support/compose';
import { exportedSeries, metricSum, type ExportedSeries } from '../../support/metrics';
import { platformToken } from '../../support/identity';
import { eventually, postGraphQL } from '../../support/graphql';
import { readPromql } from '../../support/promql';
import { startPlatform, type RunningPlatform } from '../../support/platform';

const PLATFORM = [...SUBGRAPHS, GATEWAY, ...EDGE];
const DASHBOARDS = path.join(ROOT, 'deploy/grafana/dashboards');
const PROVISIONING = path.join(ROOT, 'deploy/grafana/provisioning');
/** Labels Prometheus adds to every series it scrapes. */
const TARGET_LABELS = ['job', 'instance'];

/** Where a process serves /metrics: the gateway on its admin listener, every other process on its own port. */
const metricsPortVariable = (service: string) => (service === GATEWAY.name ? 'ADMIN_PORT' : 'PORT');

interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr: string; datasource?: { uid: string } }>;
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

const readYaml = <T>(file: string) => parse(readFileSync(file, 'utf8')) as T;
const dashboards = () =>
  readdirSync(DASHBOARDS)
    .filter((file) => file.endsWith('.json'))
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(path.join(DASHBOARDS, file), 'utf8')) as Dashboard }));
const panelsOf = (dashboard: Dashboard): Panel[] => dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]).filter((panel) => panel.type !== 'row');
const exprsOf = (dashboard: Dashboard) => panelsOf(dashboard).flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));

const PLACE_ORDER = 'mutation($items: [OrderItemInput!]!, $method: String!) { placeOrder(input: { items: $items, paymentMethod: $method }) { sagaId } }';

describe('the Grafana dashboard reads what the platform exports', () => {
  let platform: RunningPlatform;
  /** Every series name any platform process exports, with the labels seen on it. */
  let exported: ExportedSeries;
  const metricsUrls: Record<string, string> = {};

  beforeAll(async () => {
    platform = await startPlatform();
    const port = (service: (typeof PLATFORM)[number], variable: string) => (variable === 'ADMIN_PORT' ? platform.base + 700 : platform.base + service.portOffset);
    for (const service of PLATFORM) metricsUrls[service.name] = `http://127.0.0.1:${port(service, metricsPortVariable(service.name))}/metrics`;

    // Traffic, so labelled series have samples: pages through both BFFs (gateway, subgraphs) and two sagas that end differently.
    await fetch(`http://127.0.0.1:${platform.base + 100}/api/pages/home`);
    await fetch(`http://127.0.0.1:${platform.base + 200}/v1/products`);
    const headers = { authorization: `Bearer ${await platformToken(platform.base, 'u1')}` };
    for (const method of ['card-ok', 'card-declined']) {
      const { body } = await postGraphQL(platform.gatewayUrl, PLACE_ORDER, { variables: { items: [{ productId: 'p1', quantity: 1 }], method }, headers });
      expect(body.errors).toBeUndefined();
    }
    // Both sagas ended (a condition polled, not a sleep): their outcomes are on the sagas subgraph's /metrics.
    // A missing series is not read as 0: until it is there the read throws, and past the deadline it names it.
    await eventually(async () => expect(await metricSum(metricsUrls.sagas, 'trellis_sagas_finished_total')).toBe(2), 30_000, 100);

    exported = new Map();
    for (const url of Object.values(metricsUrls)) {
      const response = await fetch(url);
      expect([url, response.status]).toEqual([url, 200]);
      for (const [name, labels] of exportedSeries(await response.text())) exported.set(name, new Set([...(exported.get(name) ?? []), ...labels]));
    }
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('serves /metrics on the admin listener of the gateway and on the own port of every other process, never on the public gateway port', async () => {
    expect((await fetch(`http://127.0.0.1:${platform.base}/metrics`)).status).toBe(404);
    for (const [service, url] of Object.entries(metricsUrls)) {
      const text = await (await fetch(url)).text();
      expect([service, text]).toEqual([service, expect.stringContaining(`service="${service}"`)]);
    }
    // The sagas that ran were counted by outcome on the orchestrator's process.
    expect(await metricSum(metricsUrls.sagas, 'trellis_sagas_finished_total', { outcome: 'completed' })).toBe(1);
    expect(await metricSum(metricsUrls.sagas, 'trellis_sagas_finished_total', { outcome: 'compensated' })).toBe(1);
    expect(await metricSum(metricsUrls.sagas, 'trellis_saga_duration_seconds_count')).toBe(2);
  });

  it('uses only metric names some platform process exports (histograms through _bucket, _sum and _count)', () => {
    const unknown: string[] = [];
    for (const { file, dashboard } of dashboards()) {
      for (const { panel, expr } of exprsOf(dashboard)) {
        for (const metric of readPromql(expr).metrics) if (!exported.has(metric)) unknown.push(`${file} "${panel}": ${metric}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('groups and filters only on labels those metrics carry', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const { file, dashboard } of dashboards()) {
      for (const { panel, expr } of exprsOf(dashboard)) {
        const { groupings, matchers } = readPromql(expr);
        const uses = [...groupings.flatMap(({ labels, metrics }) => metrics.flatMap((metric) => labels.map((label) => ({ metric, label })))), ...matchers];
        for (const { metric, label } of uses) {
          const labels = exported.get(metric);
          // A series with no sample yet shows no labels; the ones this test's traffic made are checked.
          if (!labels || labels.size === 0 || TARGET_LABELS.includes(label)) continue;
          checked++;
          if (!labels.has(label)) wrong.push(`${file} "${panel}": ${metric} has no label ${label} (it has ${[...labels].join(', ')})`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  it('shows what operators watch: requests, errors and latency per operation, subgraph fetches, breakers, ejections, supergraph version and sagas', () => {
    const used = new Set(dashboards().flatMap(({ dashboard }) => exprsOf(dashboard).flatMap(({ expr }) => readPromql(expr).metrics)));
    for (const metric of [
      'trellis_gateway_requests_total',
      'trellis_gateway_request_duration_seconds_bucket',
      'trellis_subgraph_fetch_duration_seconds_bucket',
      'trellis_subgraph_fetch_errors_total',
      'trellis_breaker_state',
      'trellis_subgraph_ejected_instances',
      'trellis_supergraph_version',
      'trellis_sagas_started_total',
      'trellis_sagas_finished_total',
      'trellis_saga_duration_seconds_bucket',
      'trellis_bff_request_duration_seconds_bucket',
      'trellis_process_process_cpu_seconds_total',
      'trellis_process_nodejs_eventloop_lag_p99_seconds',
      'trellis_process_nodejs_heap_size_used_bytes',
    ]) {
      expect([metric, used.has(metric)]).toEqual([metric, true]);
    }
  });
});

describe('the observability files of docker-compose.yml', () => {
  const { services } = composeConfig();
  const platformServices = Object.entries(services).filter(([, service]) => service.image === 'trellis:local' && PLATFORM.some((spec) => spec.name === service.command?.[0]));
  /** The read-only mount of a file or folder of the repo in a service. */
  const mountOf = (service: ComposeService, source: string) => service.volumes?.find((volume) => volume.source === path.join(ROOT, source) && volume.readOnly);

  it('runs Jaeger, Prometheus and Grafana with their ports published', () => {
    const published = (name: string) => (services[name]?.ports ?? []).map((port) => port.target);
    expect(services.jaeger.image).toMatch(/^jaegertracing\/jaeger:2\./);
    expect(published('jaeger')).toEqual(expect.arrayContaining([4317, 4318, 16686]));
    expect(published('prometheus')).toContain(9090);
    expect(published('grafana')).toContain(3000);
  });

  it('has Prometheus scrape every platform service, and only those, on the port that serves its /metrics', () => {
    expect(platformServices.length).toBe(10);
    const config = readYaml<{ scrape_configs: Array<{ job_name: string; metrics_path?: string; scheme?: string; static_configs: Array<{ targets: string[] }> }> }>(
      path.join(ROOT, 'deploy/prometheus/prometheus.yml'),
    );
    const mounted = mountOf(services.prometheus, 'deploy/prometheus/prometheus.yml');
    expect(services.prometheus.command).toContain(`--config.file=${mounted?.target}`);

    const scraped = config.scrape_configs
      .filter((job) => job.job_name !== 'prometheus')
      .flatMap((job) => job.static_configs.flatMap((group) => group.targets.map((target) => ({ target, path: job.metrics_path ?? '/metrics', scheme: job.scheme ?? 'http' }))));
    const expected = platformServices.map(([name, service]) => {
      const variable = metricsPortVariable(service.command![0]);
      if (variable === 'ADMIN_PORT') {
        // Reachable by Prometheus on the compose network, never published on the host.
        expect([name, service.environment?.ADMIN_HOST]).toEqual([name, '0.0.0.0']);
        expect([name, (service.ports ?? []).map((port) => port.target)]).toEqual([name, expect.not.arrayContaining([Number(service.environment!.ADMIN_PORT)])]);
      }
      return { target: `${name}:${service.environment![variable]}`, path: '/metrics', scheme: 'http' };
    });
    expect(scraped.sort((a, b) => a.target.localeCompare(b.target))).toEqual(expected.sort((a, b) => a.target.localeCompare(b.target)));
    expect(new Set(config.scrape_configs.map((job) => job.job_name)).size).toBe(config.scrape_configs.length);
  });

  it('gives every platform service compose\'s Jaeger as OTLP endpoint, its own service name, and a config Trellis accepts', () => {
    for (const [name, service] of platformServices) {
      const env = service.environment!;
      const endpoint = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT);
      expect([name, endpoint.hostname, Number(endpoint.port)]).toEqual([name, 'jaeger', 4318]);
      expect([name, env.OTEL_SERVICE_NAME]).toEqual([name, env.SERVICE_NAME]);
      expect(() => loadConfig(env)).not.toThrow();
    }
  });

  it('provisions Grafana with compose\'s Prometheus and Jaeger and the dashboards folder, and every dashboard panel names a provisioned data source', () => {
    const grafana = services.grafana;
    const datasourcesDir = mountOf(grafana, 'deploy/grafana/provisioning/datasources');
    const providersDir = mountOf(grafana, 'deploy/grafana/provisioning/dashboards');
    const dashboardsDir = mountOf(grafana, 'deploy/grafana/dashboards');
    expect([datasourcesDir?.target, providersDir?.target]).toEqual(['/etc/grafana/provisioning/datasources', '/etc/grafana/provisioning/dashboards']);

    const files = (dir: string) => readdirSync(path.join(PROVISIONING, dir)).filter((file) => /\.ya?ml$/.test(file));
    const datasources = files('datasources').flatMap((file) => readYaml<{ datasources: Array<{ uid: string; type: string; url: string; jsonData?: Record<string, unknown> }> }>(path.join(PROVISIONING, 'datasources', file)).datasources);
    const byType = (type: string) => datasources.find((source) => source.type === type)!;
    const reaches = (url: string, service: string, port: number) => {
      const parsed = new URL(url);
      expect([url, parsed.hostname, Number(parsed.port), (services[service].ports ?? []).some((p) => p.target === port)]).toEqual([url, service, port, true]);
    };
    reaches(byType('prometheus').url, 'prometheus', 9090);
    reaches(byType('jaeger').url, 'jaeger', 16686);
    // An exemplar's trace id opens the trace in the Jaeger data source.
    expect(byType('prometheus').jsonData?.exemplarTraceIdDestinations).toEqual([expect.objectContaining({ datasourceUid: byType('jaeger').uid })]);

    const providers = files('dashboards').flatMap((file) => readYaml<{ providers: Array<{ type: string; options: { path: string } }> }>(path.join(PROVISIONING, 'dashboards', file)).providers);
    expect(providers.map((provider) => [provider.type, provider.options.path])).toEqual([['file', dashboardsDir?.target]]);
    expect([grafana.environment?.GF_AUTH_ANONYMOUS_ENABLED, grafana.environment?.GF_AUTH_ANONYMOUS_ORG_ROLE]).toEqual(['true', 'Viewer']);
    const home = grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(home?.startsWith(`${dashboardsDir?.target}/`)).toBe(true);
    expect(existsSync(path.join(DASHBOARDS, path.basename(home!)))).toBe(true);

    const uids = new Set(datasources.map((source) => source.uid));
    const list = dashboards();
    expect(list.length).toBeGreaterThan(0);
    expect(new Set(list.map(({ dashboard }) => dashboard.uid)).size).toBe(list.length);
    for (const { file, dashboard } of list) {
      for (const panel of panelsOf(dashboard)) {
        expect([file, panel.title, uids.has(panel.datasource?.uid ?? '')]).toEqual([file, panel.title, true]);
        for (const target of panel.targets ?? []) expect([file, panel.title, target.datasource?.uid ?? panel.datasource?.uid]).toEqual([file, panel.title, panel.datasource?.uid]);
      }
    }
  });
});
