/** What is measured: the subgraph itself, plain Apollo Gateway (two fetchers), Trellis's gateway and Hive Gateway, each verifying the same tokens. */
import path from 'node:path';
import type { DenialStyle, Workload } from './operations';
import type { SpawnSpec } from './processes';
import { ensureHiveGateway, HIVE_DIR } from './hive';
import { compiledEntry } from './build';
import type { Learns } from './staleness';
import { freePort } from '../../support/ports';

const ROOT = path.resolve(__dirname, '..', '..', '..');

export interface TargetContext {
  /** The composed supergraph, `@authenticated`/`@requiresScopes` linked `for: SECURITY`. */
  supergraphPath: string;
  /** The same through liftEnforcedSecurityFeatures, for gateways that do not enforce them and refuse them otherwise. */
  liftedSupergraphPath: string;
  /** The issuer every gateway verifies tokens against (its JWKS at `/.well-known/jwks.json`). */
  authIssuer: string;
  /** Subgraph name to its `/graphql` URL. */
  subgraphUrls: Record<string, string>;
  /** The local OTLP sink's base URL (otlpSink.ts), for the tracing targets. */
  otlpUrl: string;
  /** The cache Redis the entity-cache targets share (BENCH_CACHE_REDIS_URL), and this run's key prefix on it. */
  cacheRedis: { url: string; prefix: string };
  /** The Kafka the entity-cache targets hear changes on (BENCH_KAFKA_BROKERS), and this run's topic prefix there. */
  kafka: { brokers: string[]; topicPrefix: string };
  /** A free port for the gateway under test. */
  port: number;
  log(line: string): void;
}

export interface PreparedTarget {
  /** The gateway process to start; none for `direct`. */
  spawn?: SpawnSpec;
  /** Where to send `workload`, or undefined when this target cannot answer it. */
  urlFor(workload: Workload): string | undefined;
  /** Once it answers: why it is not ready to be measured yet, undefined when it is (asked again until it is). */
  notReady?(): Promise<string | undefined>;
}

export interface Target {
  name: string;
  /** One line on what runs, for the results. */
  description: string;
  /** How it answers a field the caller's scopes do not reach (see operations.ts). */
  denial: DenialStyle;
  prepare(context: TargetContext): Promise<PreparedTarget>;
  /** For a target that caches answers: how it learns that an entity changed (the staleness part measures it). */
  learns?: Learns;
}

// Same mode for every gateway: no introspection, no stack traces, as deployed. A bench gateway
// serves a fixed supergraph on the embedded state store and event bus, which production refuses unless told.
const PRODUCTION = { NODE_ENV: 'production', TRELLIS_ALLOW_EMBEDDED_BACKENDS: 'true' };
const tsxNode = (script: string, args: string[], env: Record<string, string>, node = process.execPath): SpawnSpec => ({
  command: node,
  args: ['--conditions=trellis-source', '--import', 'tsx', path.join(ROOT, script), ...args],
  cwd: ROOT,
  env: { ...PRODUCTION, ...env },
});
/** Trellis's gateway compiled (build.ts), run by plain Node as `npm run start:prod` runs it. */
const compiledGateway = async (log: (line: string) => void, args: string[], env: Record<string, string>, node = process.execPath): Promise<SpawnSpec> => ({
  command: node,
  args: [await compiledEntry('gateway/main.ts', log), ...args],
  cwd: ROOT,
  env: { ...PRODUCTION, ...env },
});
const gatewayUrl = (port: number) => () => `http://127.0.0.1:${port}/graphql`;

/**
 * Whether an entity-cache gateway hears its change feed (`trellis_entity_cache_feed_live` 1 on its
 * admin listener's /metrics): until it does, it keeps nothing longer than the degraded TTL (2 s),
 * which is not the cache this target stands for.
 */
async function feedNotLive(metricsUrl: string): Promise<string | undefined> {
  const metrics = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(2000) })).text();
  return /^trellis_entity_cache_feed_live(\{[^}]*\})? 1$/m.test(metrics) ? undefined : 'its change feed is not live (is Kafka at BENCH_KAFKA_BROKERS up?)';
}

/** An older Node to compare runtimes with (BENCH_NODE20, default /usr/bin/node), for the `-node20` targets. */
const NODE20 = process.env.BENCH_NODE20 ?? '/usr/bin/node';
// Trellis refuses Node < 24 at start; the runtime comparison alone lifts that.
const OLD_NODE = { TRELLIS_ALLOW_UNSUPPORTED_NODE: '1' };

export const TARGETS: Target[] = [
  {
    name: 'direct',
    description: 'the query sent straight to its subgraph (single-subgraph queries only): the floor',
    denial: 'propagate',
    prepare: async ({ subgraphUrls }) => ({
      urlFor: (workload) => (workload.subgraphs.length === 1 ? subgraphUrls[workload.subgraphs[0]] : undefined),
    }),
  },
  {
    name: 'apollo',
    description:
      'plain @apollo/gateway + @apollo/server on express 5, static supergraph (security features lifted), its context function verifying the JWT with jose (JWKS, ES256, issuer, audience), RemoteGraphQLDataSource (default make-fetch-happen fetcher) forwarding `authorization`; @authenticated/@requiresScopes enforced by the subgraphs only (Apollo Gateway enforces neither): the baseline',
    denial: 'propagate',
    prepare: async ({ liftedSupergraphPath, authIssuer, port }) => ({
      spawn: tsxNode('test/bench/gateway/apolloGateway.ts', [liftedSupergraphPath, String(port), authIssuer], {}),
      urlFor: gatewayUrl(port),
    }),
  },
  {
    name: 'apollo-undici',
    description: 'the same with `fetcher`: undici `request` on one keep-alive Agent (apolloGateway.ts `undiciFetcher`, ~20 lines): the cheap baseline a user could write',
    denial: 'propagate',
    prepare: async ({ liftedSupergraphPath, authIssuer, port }) => ({
      spawn: tsxNode('test/bench/gateway/apolloGateway.ts', [liftedSupergraphPath, String(port), authIssuer, 'undici'], {}),
      urlFor: gatewayUrl(port),
    }),
  },
  {
    name: 'trellis',
    description:
      'gateway/main.ts compiled (npm run build, run by node as start:prod does) --supergraph (static mode), default settings (breakers, balancing, retries, dedup, metrics), AUTH_ISSUER set: verifies every JWT against the JWKS and enforces @authenticated/@requiresScopes',
    denial: 'propagate',
    prepare: async ({ supergraphPath, authIssuer, port, log }) => ({
      spawn: await compiledGateway(log, ['--supergraph', supergraphPath], { PORT: String(port), HOST: '127.0.0.1', AUTH_ISSUER: authIssuer }),
      urlFor: gatewayUrl(port),
    }),
  },
  {
    name: 'trellis-nodedup',
    description: 'the same with DEDUP_QUERIES=false: every request makes its own subgraph calls, as plain Apollo does',
    denial: 'propagate',
    prepare: async ({ supergraphPath, authIssuer, port, log }) => ({
      spawn: await compiledGateway(log, ['--supergraph', supergraphPath], { PORT: String(port), HOST: '127.0.0.1', AUTH_ISSUER: authIssuer, DEDUP_QUERIES: 'false' }),
      urlFor: gatewayUrl(port),
    }),
  },
  ...[
    { name: 'trellis-ecache', mode: 'on', responses: 'on', what: 'whole answers, entities and root answers served from the cache, only misses asked of their subgraphs' },
    { name: 'trellis-ecache-entities', mode: 'on', responses: 'off', what: 'the same without whole answers (ENTITY_CACHE_RESPONSES=off): every query planned and run, entities and root answers from the cache' },
    { name: 'trellis-ecache-shadow', mode: 'shadow', responses: 'on', what: 'every entity still asked of its subgraph, cached ones compared with it: the cost of trying the cache out' },
  ].map(({ name, mode, responses, what }): Target => ({
    name,
    description: `\`trellis\` with ENTITY_CACHE=${mode} on the cache Redis (BENCH_CACHE_REDIS_URL, a prefix per run and target; the example subgraphs declare Product 30 s public, User/Order 30 s private), its change feed on Kafka (BENCH_KAFKA_BROKERS, a topic prefix per run): ${what}`,
    denial: 'propagate',
    learns: 'events',
    prepare: async ({ supergraphPath, authIssuer, port, log, cacheRedis, kafka }) => {
      const adminPort = await freePort();
      return {
        spawn: await compiledGateway(log, ['--supergraph', supergraphPath], {
          PORT: String(port),
          HOST: '127.0.0.1',
          ADMIN_PORT: String(adminPort),
          AUTH_ISSUER: authIssuer,
          ENTITY_CACHE: mode,
          ENTITY_CACHE_RESPONSES: responses,
          CACHE_REDIS_URL: cacheRedis.url,
          ENTITY_CACHE_PREFIX: `${cacheRedis.prefix}${name}:`,
          // Changes come through Kafka, as in production: the staleness part announces them there.
          KAFKA_BROKERS: kafka.brokers.join(','),
          KAFKA_TOPIC_PREFIX: kafka.topicPrefix,
        }),
        urlFor: gatewayUrl(port),
        notReady: () => feedNotLive(`http://127.0.0.1:${adminPort}/metrics`),
      };
    },
  })),
  ...[
    { name: 'trellis-otel', ratio: '1', share: '100%' },
    { name: 'trellis-otel10', ratio: '0.1', share: '10%' },
  ].map(({ name, ratio, share }): Target => ({
    name,
    description: `\`trellis\` with tracing on: OTEL_EXPORTER_OTLP_ENDPOINT at a local collector sink (otlpSink.ts, OTLP/HTTP protobuf, batched), parentbased_traceidratio sampling ${share} of requests: the cost of tracing against \`trellis\` (tracing off)`,
    denial: 'propagate',
    prepare: async ({ supergraphPath, authIssuer, port, otlpUrl }) => ({
      spawn: tsxNode('gateway/main.ts', ['--supergraph', supergraphPath], {
        PORT: String(port),
        HOST: '127.0.0.1',
        AUTH_ISSUER: authIssuer,
        OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
        OTEL_SERVICE_NAME: name,
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: ratio,
      }),
      urlFor: gatewayUrl(port),
    }),
  })),
  ...[
    {
      name: 'hive',
      description:
        'Hive Gateway CLI `hive-gateway supergraph` (one process, no fork), from test/bench/gateway/hive/, config hive/gateway.config.mjs: JWT plugin verifying the token (remote JWKS, ES256, issuer, audience), generic auth enforcing @authenticated/@requiresScopes (protect-granular, refused fields removed), `authorization` forwarded',
      cache: false,
    },
    {
      name: 'hive-cache',
      description:
        '`hive` with its response cache (`responseCaching`) on the cache Redis (BENCH_CACHE_REDIS_URL, a prefix per run): whole answers kept 30 s (`ttl`, as the subgraphs declare), per caller (session: the verified token\'s subject and scopes), answers with errors not kept; the token is verified on every request, hit or miss',
      cache: true,
    },
  ].map(({ name, description, cache }): Target => ({
    name,
    description,
    denial: 'in-place',
    ...(cache ? { learns: 'ttl' as const } : {}),
    prepare: async ({ supergraphPath, authIssuer, port, log, cacheRedis }) => {
      const bin = await ensureHiveGateway(log);
      return {
        spawn: {
          command: process.execPath,
          args: [bin, 'supergraph', supergraphPath, '--config-path', path.join(HIVE_DIR, 'gateway.config.mjs'), '--port', String(port), '--host', '127.0.0.1', '--fork', '1'],
          cwd: HIVE_DIR,
          // Empty for `hive`: its response cache stays off whatever the runner's own environment holds.
          env: { ...PRODUCTION, BENCH_AUTH_ISSUER: authIssuer, BENCH_RESPONSE_CACHE_REDIS_URL: cache ? cacheRedis.url : '', BENCH_RESPONSE_CACHE_PREFIX: `${cacheRedis.prefix}${name}:` },
        },
        urlFor: gatewayUrl(port),
      };
    },
  })),
  {
    name: 'apollo-node20',
    description: 'plain Apollo Gateway as `apollo`, run by Node 20 (BENCH_NODE20) instead of Node 24: the runtime comparison',
    denial: 'propagate',
    prepare: async ({ liftedSupergraphPath, authIssuer, port }) => ({
      spawn: tsxNode('test/bench/gateway/apolloGateway.ts', [liftedSupergraphPath, String(port), authIssuer], {}, NODE20),
      urlFor: gatewayUrl(port),
    }),
  },
  {
    name: 'trellis-node20',
    description: 'Trellis as `trellis`, run by Node 20 (BENCH_NODE20) instead of Node 24: the runtime comparison',
    denial: 'propagate',
    prepare: async ({ supergraphPath, authIssuer, port, log }) => ({
      spawn: await compiledGateway(log, ['--supergraph', supergraphPath], { PORT: String(port), HOST: '127.0.0.1', AUTH_ISSUER: authIssuer, ...OLD_NODE }, NODE20),
      urlFor: gatewayUrl(port),
    }),
  },
];
