/**
 * What runs Trellis elsewhere, validated without a Docker engine or a cluster: the Dockerfile's stages,
 * docker-compose.yml through `docker-compose config`, and the Kubernetes base through
 * `kubectl kustomize` and the API's schemas (kubernetes-models). test/stack/deploy-tools.sh installs
 * the two commands. The observability files of compose (Prometheus, Grafana, Jaeger) are checked
 * against the running platform in observability.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { parseAllowList } from '@trellis/kit/internal/discovery/allowList';
import { loadConfig, productionProblems, type Env } from '@trellis/kit/internal/config';
import { SERVICES, SUBGRAPHS } from '../../../scripts/launcher/services';
import { composeConfig } from '../../support/compose';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SERVICE_NAMES = SERVICES.map((service) => service.name);

/** What NODE_ENV=production would refuse in `service` run with `env` (shared/config/production.ts), as its main checks at start. */
function refusals(service: string, env: Env): string[] {
  const config = loadConfig(env);
  expect([service, config.isProduction]).toEqual([service, true]);
  return productionProblems(config, SERVICES.find((spec) => spec.name === service)!.profile(config)).map(({ problem }) => problem);
}

interface Instruction {
  command: string;
  args: string;
}

/** Dockerfile instructions per stage (continuations joined, comments dropped), and the global ARGs. */
function dockerfileStages(text: string): { args: Instruction[]; stages: Array<{ name?: string; from: string; instructions: Instruction[] }> } {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  const args: Instruction[] = [];
  const stages: Array<{ name?: string; from: string; instructions: Instruction[] }> = [];
  for (const line of lines) {
    const [, command, rest] = /^(\S+)\s+(.*)$/.exec(line)!;
    const instruction = { command: command.toUpperCase(), args: rest.replace(/\s+/g, ' ') };
    if (instruction.command === 'FROM') {
      const [, from, name] = /^(\S+)(?: AS (\S+))?$/i.exec(instruction.args)!;
      stages.push({ from, name, instructions: [] });
    } else if (stages.length === 0) args.push(instruction);
    else stages[stages.length - 1].instructions.push(instruction);
  }
  return { args, stages };
}

describe('Dockerfile', () => {
  const { args, stages } = dockerfileStages(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const runtime = stages[stages.length - 1];
  const has = (stage: (typeof stages)[number], command: string, pattern: RegExp) => stage.instructions.some((i) => i.command === command && pattern.test(i.args));

  it('builds on Node 24 LTS slim at the same patch release the tests run on (scripts/runtime/node24)', () => {
    const pinned = /^PINNED=(\S+)$/m.exec(readFileSync(path.join(ROOT, 'scripts/runtime/node24'), 'utf8'))![1];
    expect(args).toContainEqual({ command: 'ARG', args: `NODE_IMAGE=node:${pinned}-bookworm-slim` });
    expect(stages.map((stage) => stage.from)).toEqual(['${NODE_IMAGE}', '${NODE_IMAGE}', '${NODE_IMAGE}']);
  });

  it('compiles in a stage with dev dependencies, and ships only dist/, the built kit and production dependencies', () => {
    const build = stages.find((stage) => stage.name === 'build')!;
    expect(has(build, 'RUN', /^npm ci --no-audit/)).toBe(true);
    expect(has(build, 'RUN', /^npm run build$/)).toBe(true);
    const deps = stages.find((stage) => stage.name === 'deps')!;
    expect(has(deps, 'RUN', /^npm ci --omit=dev\b/)).toBe(true);
    const copies = runtime.instructions.filter((i) => i.command === 'COPY').map((i) => i.args.replace(/--chown=\S+ /g, ''));
    // The kit is the workspace package @trellis/kit: each npm ci needs its manifest, the runtime its build.
    expect(has(build, 'COPY', /^shared\/package\.json \.\/shared\/$/)).toBe(true);
    expect(has(deps, 'COPY', /^shared\/package\.json \.\/shared\/$/)).toBe(true);
    expect(copies).toEqual([
      'package.json package-lock.json ./',
      '--from=deps /app/node_modules ./node_modules',
      '--from=build /app/dist ./dist',
      '--from=build /app/shared/package.json ./shared/package.json',
      '--from=build /app/shared/dist ./shared/dist',
    ]);
  });

  it('runs non-root under tini, with a heap cap, a health check on /health/ready, and one entry per service', () => {
    expect(runtime.instructions.filter((i) => i.command === 'USER').pop()?.args).toBe('node');
    expect(has(runtime, 'ENV', /NODE_OPTIONS="--max-old-space-size=\d+/)).toBe(true);
    expect(has(runtime, 'EXPOSE', /^4000$/)).toBe(true);
    expect(has(runtime, 'HEALTHCHECK', /CMD .*\/health\/ready/)).toBe(true);
    expect(has(runtime, 'RUN', /apt-get install .*\btini\b/)).toBe(true);
    expect(has(runtime, 'ENTRYPOINT', /^\["\/usr\/bin\/tini", "--", "node", "dist\/scripts\/service\.js"\]$/)).toBe(true);
    const cmd = JSON.parse(runtime.instructions.find((i) => i.command === 'CMD')!.args) as string[];
    expect(SERVICE_NAMES).toContain(cmd[0]);
  });
});

describe('docker-compose.yml', () => {
  it('validates with docker-compose config', () => {
    const quiet = spawnSync('docker-compose', ['config', '-q'], { cwd: ROOT, encoding: 'utf8' });
    expect(quiet.stderr).toBe('');
    expect(quiet.status).toBe(0);
  });

  it('runs two gateways and two catalog instances, each advertising its own host, behind health-gated start order', () => {
    const { services } = composeConfig();
    const running = (service: string) => Object.entries(services).filter(([, s]) => s.image === 'trellis:local' && s.command?.[0] === service);
    expect(running('gateway')).toHaveLength(2);
    const catalogs = running('catalog');
    expect(catalogs).toHaveLength(2);
    expect(new Set(catalogs.map(([, s]) => s.environment?.ADVERTISE_HOST))).toEqual(new Set(catalogs.map(([name]) => name)));
    for (const name of ['consul', 'redis', 'kafka', 'idp']) expect(services[name]).toBeDefined();
    for (const [name, service] of Object.entries(services)) {
      expect([name, service.healthcheck]).toEqual([name, expect.anything()]);
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) expect([name, dependency, condition]).toEqual([name, dependency, 'service_healthy']);
      if (service.image === 'trellis:local') expect([name, SERVICE_NAMES.includes(service.command![0])]).toEqual([name, true]);
    }
    for (const [name, service] of [...running('users'), ...running('gateway'), ...running('web-bff')]) {
      expect([name, Object.keys(service.depends_on ?? {})]).toEqual([name, expect.arrayContaining(['consul', 'redis', 'kafka', 'idp'])]);
    }
    // Both gateways answer to one name, so the BFFs' DNS lookups spread over them.
    for (const [, gateway] of running('gateway')) expect(gateway.networks?.default?.aliases).toContain('gateway');
    for (const bff of ['web-bff', 'mobile-bff']) {
      expect(new URL(services[bff].environment!.GATEWAY_URL).hostname).toBe('gateway');
      expect(Object.keys(services[bff].depends_on!)).toEqual(expect.arrayContaining(running('gateway').map(([name]) => name)));
    }
  });

  it('passes the production start checks in every Trellis service, with the allow-list and a Consul token set', () => {
    const { services } = composeConfig();
    const trellis = Object.entries(services).filter(([, service]) => service.image === 'trellis:local');
    expect(trellis.length).toBeGreaterThan(9);
    for (const [name, service] of trellis) expect([name, refusals(service.command![0], service.environment!)]).toEqual([name, []]);
    // The allow-list names every subgraph compose runs, on the hosts each advertises.
    const gateway = services['gateway-1'].environment!;
    const allow = parseAllowList(gateway.SUBGRAPH_ALLOW);
    for (const [name, service] of trellis.filter(([, s]) => SUBGRAPHS.some((spec) => spec.name === s.command![0]))) {
      expect([name, allow.refusal({ name: service.command![0], url: `http://${service.environment!.ADVERTISE_HOST}:4000/graphql` })]).toEqual([name, null]);
    }
    // The check is what passes: without what compose sets, the gateway would not start.
    const { SUBGRAPH_ALLOW: _allow, CONSUL_HTTP_TOKEN: _token, ADMIN_TOKEN: _admin, ...bare } = gateway;
    expect(refusals('gateway', bare)).toHaveLength(3);
    const { TRELLIS_ALLOW_DEV_IDENTITY: _dev, ...idp } = services.idp.environment!;
    expect(refusals('identity', idp)).toHaveLength(1);
  });

  it('gives Prometheus the admin token the gateways require', () => {
    const prometheus = parse(readFileSync(path.join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as { scrape_configs: Array<{ job_name: string; authorization?: { credentials: string } }> };
    const job = prometheus.scrape_configs.find((config) => config.job_name === 'gateway')!;
    const { services } = composeConfig();
    for (const name of ['gateway-1', 'gateway-2']) expect(job.authorization?.credentials).toBe(services[name].environment!.ADMIN_TOKEN);
  });
});

describe('Kubernetes base (deploy/kubernetes/base)', () => {
  interface Container {
    image: string;
    env: Array<{ name: string; value?: string; valueFrom?: unknown }>;
    securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean; capabilities: { drop: string[] } };
    args: string[];
    readinessProbe: { httpGet: unknown };
    livenessProbe: { httpGet: unknown };
    resources: { requests: Record<string, string>; limits: Record<string, string> };
    envFrom: Array<Record<string, { name: string }>>;
  }
  type PodTemplate = { metadata: { labels: Record<string, string> }; spec: { terminationGracePeriodSeconds: number; securityContext: { runAsNonRoot: boolean }; containers: Container[] } };
  type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; spec?: Record<string, unknown>; data?: Record<string, string>; stringData?: Record<string, string> };
  let objects: Manifest[];

  beforeAll(() => {
    const built = execFileSync('kubectl', ['kustomize', path.join(ROOT, 'deploy/kubernetes/base')], { encoding: 'utf8' });
    objects = parseAllDocuments(built).map((document) => document.toJSON() as Manifest);
  });

  const ofKind = (kind: string) => objects.filter((object) => object.kind === kind);

  it('builds with kustomize, and every object validates against the Kubernetes API schemas', () => {
    expect(objects.length).toBeGreaterThan(20);
    const checked = spawnSync(process.execPath, ['--conditions=trellis-source', '--import', 'tsx', path.join(ROOT, 'test/support/kubernetesSchemas.ts')], { cwd: ROOT, input: JSON.stringify(objects), encoding: 'utf8' });
    expect(checked.status).toBe(0);
    const results = JSON.parse(checked.stdout) as Array<{ kind: string; name: string; error?: string }>;
    expect(results).toHaveLength(objects.length);
    expect(results.filter((result) => result.error)).toEqual([]);
  });

  it('the schema check catches a broken object', () => {
    const broken = { ...ofKind('Deployment')[0], spec: { ...ofKind('Deployment')[0].spec, replicas: 'two' } };
    const checked = spawnSync(process.execPath, ['--conditions=trellis-source', '--import', 'tsx', path.join(ROOT, 'test/support/kubernetesSchemas.ts')], { cwd: ROOT, input: JSON.stringify([broken]), encoding: 'utf8' });
    expect(JSON.parse(checked.stdout)[0].error).toMatch(/replicas must be integer/);
  });

  it('has a Deployment per service with probes on the health endpoints, resources and a non-root pod, each with its Service and PodDisruptionBudget', () => {
    const deployments = ofKind('Deployment');
    const serviceNames = SERVICE_NAMES.filter((name) => name !== 'identity');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(serviceNames.map((name) => `trellis-${name}`).sort());
    for (const deployment of deployments) {
      const template = (deployment.spec as { template: PodTemplate }).template;
      const [container] = template.spec.containers;
      expect([deployment.metadata.name, template.spec.securityContext.runAsNonRoot]).toEqual([deployment.metadata.name, true]);
      expect(container.image).toBe('trellis:0.1.0');
      expect(`trellis-${container.args[0]}`).toBe(deployment.metadata.name);
      expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      // Above the image's V8 heap cap (--max-old-space-size=384), so the heap limit hits before the OOM killer.
      expect(Number(/^(\d+)Mi$/.exec(container.resources.limits.memory)![1])).toBeGreaterThan(384);
      expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(container.env).toContainEqual({ name: 'ADVERTISE_HOST', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
      expect(template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(loadConfig({}).shutdownGraceMs);
      const labels = template.metadata.labels;
      const selects = (selector: Record<string, string>) => Object.entries(selector).every(([key, value]) => labels[key] === value);
      expect(ofKind('Service').filter((s) => selects((s.spec as { selector: Record<string, string> }).selector))).toHaveLength(1);
      const budgets = ofKind('PodDisruptionBudget').filter((p) => selects((p.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels));
      expect(budgets.map((budget) => budget.spec!.maxUnavailable)).toEqual([1]);
    }
  });

  it('scales the gateway with a HorizontalPodAutoscaler', () => {
    expect(ofKind('HorizontalPodAutoscaler').map((hpa) => hpa.spec)).toEqual([
      {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'trellis-gateway' },
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      },
    ]);
  });

  it('configures the pods through a ConfigMap and a Secret that Trellis\'s own config schema accepts', () => {
    const [configMap] = ofKind('ConfigMap');
    const [secret] = ofKind('Secret');
    for (const deployment of ofKind('Deployment')) {
      const { envFrom } = (deployment.spec as { template: PodTemplate }).template.spec.containers[0];
      expect(envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }, { secretRef: { name: secret.metadata.name } }]);
    }
    const config = loadConfig({ ...configMap.data, ...secret.stringData, SERVICE_NAME: 'gateway', ADVERTISE_HOST: '10.0.0.7' });
    expect(config.isProduction).toBe(true);
    expect(config.backends.redisUrl).toBeDefined();
    expect(config.http.timeouts.keepAliveMs).toBeGreaterThan(60_000);
  });

  it('passes the production start checks in every Deployment, with the allow-list and a Consul token placeholder set', () => {
    const [configMap] = ofKind('ConfigMap');
    const [secret] = ofKind('Secret');
    for (const deployment of ofKind('Deployment')) {
      const [container] = (deployment.spec as { template: PodTemplate }).template.spec.containers;
      // What the pod's environment holds: the ConfigMap, the Secret, then the container's own (a pod IP for fieldRefs).
      const own = Object.fromEntries(container.env.map(({ name, value }) => [name, value ?? '10.0.0.7']));
      const env = { ...configMap.data, ...secret.stringData, ...own };
      expect([deployment.metadata.name, refusals(container.args[0], env)]).toEqual([deployment.metadata.name, []]);
    }
    expect(parseAllowList(configMap.data!.SUBGRAPH_ALLOW).names.sort()).toEqual(SUBGRAPHS.map((spec) => spec.name).sort());
    expect(secret.stringData!.CONSUL_HTTP_TOKEN).toMatch(/^replace-with-/);
    const { SUBGRAPH_ALLOW: _allow, ...bare } = configMap.data!;
    expect(refusals('gateway', { ...bare, ...secret.stringData })).toEqual([expect.stringContaining('set SUBGRAPH_ALLOW')]);
  });
});
