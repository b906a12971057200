/**
 * Typed configuration, parsed once from the environment. Defaults run the embedded platform;
 * a bad value stops start-up with a message that names the variable.
 */
import { z } from 'zod';
import { ConfigError } from '../errors';
import { parseAllowList, type SubgraphAllowList } from '../discovery/allowList';
import { withConfigFile } from './file';
import { DEFAULT_HEADER_RULES, headerRulesSchema, type HeaderRules } from './headerRules';
import { telemetrySettings, type TelemetrySettings } from '../telemetry/settings';
import { productionEnvShape, productionOptOuts, type ProductionOptOuts } from './production';
import { deadlineEnvShape, deadlines, type Deadlines } from './deadlines';
import { supergraphPublicationEnvShape, supergraphPublicationSettings, type SupergraphPublicationSettings } from './supergraphPublication';
import { kafkaEnvShape, kafkaSettings, type KafkaSettings } from './kafka';
import { redisEnvShape, redisSettings, type RedisSettings } from './redis';
import { sagaDedupeEnvShape, sagaDedupeTtlMs } from './sagaDedupe';
import { entityChangeSettings, entityChangesEnvShape, type EntityChangeSettings } from './entityChanges';
import { cacheEnvShape, cacheSettings, type CacheSettings } from './cache';
import { entityCacheEnvShape, entityCacheSettings, type EntityCacheSettings } from './entityCache';
import { launcherEnvShape, launcherSettings, type LauncherSettings } from './launcher';

export { applyApolloTelemetry } from './apolloEnv';
export { CONFIG_FILE_NAMES } from './file';
export { formatConfig, maskSecrets } from './print';
export type { Deadlines } from './deadlines';
export type { RedisSettings } from './redis';
export type { CacheSettings } from './cache';
export type { EntityCacheMode, EntityCacheSettings } from './entityCache';
export type { LauncherSettings } from './launcher';
export { readPemFile, type KafkaSaslSettings, type KafkaSettings, type KafkaSslSettings } from './kafka';
export { assertSafeForProduction, isLoopback, peerCallProblems, productionProblems, refuseUnsafe, type ProcessProfile, type ProductionOptOuts, type ProductionProblem } from './production';
export { DEFAULT_HEADER_RULES, RESERVED_HEADERS, type HeaderRule, type HeaderRules, type HeaderRuleSet } from './headerRules';

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = z
  .string()
  .trim()
  .url()
  .optional()
  .or(z.literal('').transform(() => undefined));
const list = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );
const breakerOverrides = z.record(
  z
    .object({
      timeoutMs: z.number().int().positive(),
      errorThresholdPercentage: z.number().min(1).max(100),
      volumeThreshold: z.number().int().min(1),
      resetTimeoutMs: z.number().int().positive(),
    })
    .partial()
    .strict(),
);

/** Every environment variable Trellis reads, with its default. */
const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SERVICE_NAME: z.string().min(1).optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.optional(),
  /** Host other processes use to reach this one (what discovery advertises). */
  ADVERTISE_HOST: z.string().min(1).optional(),
  /** The gateway's admin listener (`/metrics`, `/admin/*`, health details): port (unset: a free one) and host (loopback). */
  ADMIN_PORT: port.optional(),
  ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
  /** When set, every admin request needs `Authorization: Bearer <ADMIN_TOKEN>`. */
  ADMIN_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** A JWT with the trellis:operator scope the gateway's console sends to the sagas subgraph for its overview; unset: the console lists no sagas. */
  CONSOLE_OPERATOR_TOKEN: z
    .string()
    .regex(/^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT (three base64url parts separated by dots)')
    .optional(),

  CONSUL_HTTP_ADDR: optionalUrl,
  REDIS_URL: optionalUrl,
  KAFKA_BROKERS: list,
  TRELLIS_DEVHUB_URL: optionalUrl,
  /** Prefix of every Redis key, so several platforms can share one Redis. */
  REDIS_KEY_PREFIX: z.string().default(''),
  /** Prefix of every Kafka topic and consumer group, so several platforms can share one cluster. */
  KAFKA_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, dots, dashes and underscores only').default(''),
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
  /** Keeps this platform's subgraphs apart from others in the same Consul (a tag on each instance). */
  CONSUL_NAMESPACE: z.string().regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, dots, dashes and underscores only').default(''),
  CONSUL_CHECK_INTERVAL: z.string().regex(/^\d+(ms|s|m)$/, 'a duration like 1s or 500ms').default('1s'),
  /** Failed readiness checks in a row before Consul counts an instance unhealthy (its `FailuresBeforeCritical`). */
  CONSUL_CHECK_FAILURES_BEFORE_CRITICAL: z.coerce.number().int().min(1).max(100).default(3),
  /** Consul ACL token, sent on every call (X-Consul-Token). */
  CONSUL_HTTP_TOKEN: z.string().min(1).optional(),
  /** PEM file of the CA that signed Consul's certificate (for an https CONSUL_HTTP_ADDR). */
  CONSUL_CACERT: z.string().min(1).optional(),
  /** The subgraphs the gateway may compose: `name@host|cidr,...` (see shared/discovery/allowList.ts); unset: any. */
  SUBGRAPH_ALLOW: z
    .string()
    .optional()
    .superRefine((value, ctx) => {
      if (value === undefined) return;
      try {
        parseAllowList(value);
      } catch (error) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: (error as Error).message });
      }
    }),

  /** The token issuer (`iss`); unset on the embedded platform, where `npm start` runs a dev one. */
  AUTH_ISSUER: optionalUrl,
  AUTH_AUDIENCE: z.string().min(1).default('trellis'),
  /** Defaults to `<AUTH_ISSUER>/.well-known/jwks.json`. */
  AUTH_JWKS_URL: optionalUrl,
  AUTH_ALGORITHMS: z
    .string()
    .default('ES256,RS256,PS256,EdDSA')
    .transform((value) => value.split(',').map((alg) => alg.trim()).filter(Boolean))
    .refine((algs) => algs.length > 0 && algs.every((alg) => /^(RS|PS|ES)(256|384|512)$|^EdDSA$/.test(alg)), 'asymmetric algorithms only, e.g. ES256,RS256'),
  AUTH_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(5),
  /** One JWKS fetch fails after this long: a hanging issuer never holds a request longer. */
  AUTH_JWKS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
  /** Signing keys older than this are refreshed in the background; while the JWKS is down the last good ones keep serving. */
  AUTH_JWKS_CACHE_MAX_AGE_S: z.coerce.number().int().min(1).max(7 * 24 * 3600).default(600),

  GATEWAY_URL: z.string().url().default('http://127.0.0.1:4000/graphql'),
  SUPERGRAPH_PATH: z.string().optional(),
  SUBGRAPH_SDL_TIMEOUT_MS: z.coerce.number().int().positive().default(3000),
  SUBGRAPH_HEALTH_INTERVAL_MS: z.coerce.number().int().positive().default(2000),
  /**
   * What a subgraph (the kit) limits by itself, for callers that reach its port directly; the
   * depth, alias, root field, directive and cost limits are the gateway's variables above.
   * Tokens per document, unset: 5 × MAX_TOKENS, since the planner's fetches inline fragments and
   * add key fields and `__typename` to what the client wrote.
   */
  SUBGRAPH_MAX_TOKENS: z.coerce.number().int().positive().optional(),
  /**
   * `_entities` representations per request, unset: MAX_COST. With unit weights each entity the
   * gateway fetches costs at least 2 in its estimate (the field that returns it and one field of
   * the next subgraph), so MAX_COST / 2 is the most a query within MAX_COST sends; twice that
   * leaves room for lists longer than the gateway assumed.
   */
  SUBGRAPH_MAX_REPRESENTATIONS: z.coerce.number().int().positive().optional(),
  /** Largest request a subgraph reads: an HTTP body or one WebSocket message. */
  SUBGRAPH_MAX_BODY_BYTES: z.coerce.number().int().positive().default(2 * 1024 * 1024),
  BREAKER_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
  BREAKER_ERROR_THRESHOLD_PERCENTAGE: z.coerce.number().min(1).max(100).default(50),
  BREAKER_VOLUME_THRESHOLD: z.coerce.number().int().min(1).default(5),
  BREAKER_RESET_TIMEOUT_MS: z.coerce.number().int().positive().default(3000),
  /** JSON: per-subgraph breaker settings, e.g. {"catalog":{"timeoutMs":500}}. */
  BREAKER_OVERRIDES: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (!value) return {};
      try {
        return breakerOverrides.parse(JSON.parse(value));
      } catch (error) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be JSON like {"catalog":{"timeoutMs":500}}: ${(error as Error).message}` });
        return z.NEVER;
      }
    }),
  /** JSON: which caller headers go to which subgraph (shared/config/headerRules.ts); unset: traceparent, tracestate, authorization, idempotency-key to all. */
  HEADER_RULES: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (!value) return { all: DEFAULT_HEADER_RULES, subgraphs: {} } as HeaderRules;
      let json: unknown;
      try {
        json = JSON.parse(value);
      } catch (error) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be JSON like {"subgraphs":{"catalog":{"request":[{"remove":{"named":"authorization"}}]}}}: ${(error as Error).message}` });
        return z.NEVER;
      }
      const parsed = headerRulesSchema.safeParse(json);
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${issue.path.join('.') || '(root)'}: ${issue.message}` });
      return z.NEVER;
    }),
  OUTLIER_CONSECUTIVE_FAILURES: z.coerce.number().int().min(1).default(3),
  OUTLIER_BASE_EJECTION_MS: z.coerce.number().int().positive().default(5000),
  OUTLIER_MAX_EJECTED_PERCENT: z.coerce.number().min(0).max(100).default(50),
  RETRY_BUDGET_RATIO: z.coerce.number().min(0).max(1).default(0.1),
  DEDUP_QUERIES: z.enum(['true', 'false']).default('true').transform((value) => value === 'true'),
  RESPONSE_COMPRESSION: z.enum(['true', 'false']).default('true').transform((value) => value === 'true'),
  SUBGRAPH_HTTP2: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
  /**
   * Apollo Gateway's own usage metrics, sent hourly to Apollo (usage-reporting.api.apollographql.com)
   * after probing cloud metadata servers, unless this is true. Trellis keeps them off unless an
   * operator opts in with `false`: a gateway should not call home, nor reach outside its network, by default.
   */
  APOLLO_TELEMETRY_DISABLED: z.enum(['true', 'false', '1', '0']).default('true').transform((value) => value === 'true' || value === '1'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10000),
  /** A pause before each saga participant applies a command or compensation, to watch sagas move in the storefront; 0 in normal use. */
  SAGA_STEP_PAUSE_MS: z.coerce.number().int().min(0).max(10_000).default(0),
  /** How far a saga participant's clock may run ahead of the orchestrators' before it refuses a command as past its deadline. */
  SAGA_DEADLINE_SKEW_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /** Server timeouts of every HTTP listener; keep-alive above a load balancer's idle timeout (60 s on AWS ALB), so the balancer closes first. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().positive().default(65_000),
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().default(66_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(300_000),

  /** Limits of the public GraphQL endpoint; each refusal has its own error code (see gateway/limits). */
  MAX_QUERY_DEPTH: z.coerce.number().int().positive().default(12),
  /**
   * Nested introspection lists (`fields`, `interfaces`, `possibleTypes`, `inputFields`); the
   * standard introspection query nests 1. graphql-js's validation refuses 3 whatever is set here,
   * as Apollo Router does, so a value above 2 could never take effect and is refused.
   */
  MAX_INTROSPECTION_DEPTH: z.coerce.number().int().min(0).max(2).default(2),
  MAX_ALIASES: z.coerce.number().int().min(0).default(30),
  MAX_ROOT_FIELDS: z.coerce.number().int().positive().default(20),
  /** Directives on one field (or fragment); GraphQL Armor's `maxDirectives`, counted per field. */
  MAX_DIRECTIVES: z.coerce.number().int().min(0).default(10),
  MAX_TOKENS: z.coerce.number().int().positive().default(2000),
  MAX_COST: z.coerce.number().int().positive().default(5000),
  /** Assumed size of a list field with no `first`/`last`/`limit` argument, for the cost estimate. */
  DEFAULT_LIST_SIZE: z.coerce.number().int().min(0).default(10),
  /** Operations in one batched (JSON array) request. */
  MAX_BATCH: z.coerce.number().int().positive().default(10),
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  /** How long an automatic persisted query stays registered. */
  APQ_TTL_SECONDS: z.coerce.number().int().positive().default(86400),
  /** A persisted query manifest: when set, only its documents run (trusted documents). */
  TRUSTED_DOCUMENTS: z.string().optional(),
  /** Origins allowed by CORS; unset means localhost origins in development and none in production. */
  CORS_ORIGINS: list,
  /** BFFs (bff/web, bff/mobile): where they listen when PORT is unset, and how they treat the gateway. */
  WEB_BFF_PORT: port.default(4100),
  MOBILE_BFF_PORT: port.default(4200),
  /** Requests per client (verified identity, else IP) per window at the gateway; 0 turns the limit off. */
  GATEWAY_RATE_LIMIT: z.coerce.number().int().min(0).default(0),
  GATEWAY_RATE_LIMIT_WINDOW_S: z.coerce.number().int().positive().default(60),
  /** Open subscriptions on one graphql-ws connection, and of one caller (identity, else address) per gateway process; 0: no cap. */
  MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(0).default(100),
  MAX_SUBSCRIPTIONS_PER_USER: z.coerce.number().int().min(0).default(500),
  /** A multipart HTTP subscription's heartbeat `{}`, every this many ms in which no event went out (Apollo Router's 5 s); 0: none. */
  MULTIPART_HEARTBEAT_MS: z.coerce.number().int().min(0).default(5000),
  BFF_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(300),
  BFF_CACHE_TTL_MS: z.coerce.number().int().min(0).default(2000),
  BFF_GATEWAY_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  BFF_SESSION_TTL_MS: z.coerce.number().int().positive().default(8 * 3600_000),
  /** The mobile BFF's persisted operations (operation id -> document). */
  MOBILE_PERSISTED_OPERATIONS: z.string().min(1).optional(),
  /** A trellis.config file (YAML or JSON) to read instead of ./trellis.config.{yaml,yml,json} (shared/config/file.ts). */
  TRELLIS_CONFIG: z.string().min(1).optional(),
  /** Opt-outs of the production start checks (production.ts). */
  ...productionEnvShape,
  ...sagaDedupeEnvShape,
  ...entityChangesEnvShape,
  /** Deadlines of work that could hang: composition, upstream graphql-ws peers (deadlines.ts). */
  ...deadlineEnvShape,
  /** One published supergraph for every gateway on Consul: lock timing and KV prefix (supergraphPublication.ts). */
  ...supergraphPublicationEnvShape,
  /** Kafka's client, TLS, SASL and topic settings (kafka.ts). */
  ...kafkaEnvShape,
  /** The state store's Redis topology (Sentinel, Cluster) and replica waits (redis.ts). */
  ...redisEnvShape,
  /** The Redis of caches and rate limits (cache.ts). */
  ...cacheEnvShape,
  /** The gateway's entity cache: mode, sizes, TTL cap, Redis timeout (entityCache.ts). */
  ...entityCacheEnvShape,
  /** `npm start`'s port block and replicas (launcher.ts). */
  ...launcherEnvShape,
});

export type Env = Record<string, string | undefined>;

/** Node's server timeouts (`keepAliveTimeout`, `headersTimeout`, `requestTimeout`), in ms. */
export interface ServerTimeouts {
  keepAliveMs: number;
  headersMs: number;
  requestMs: number;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  isProduction: boolean;
  /** Production refusals the operator waived (TRELLIS_ALLOW_*; see production.ts). */
  production: ProductionOptOuts;
  /** Deadlines of work that could otherwise hang for ever (deadlines.ts). */
  deadlines: Deadlines;
  /** The composer lock and the published supergraph on Consul (supergraphPublication.ts). */
  supergraphPublication: SupergraphPublicationSettings;
  /**
   * Saga participants: the pause before each step (SAGA_STEP_PAUSE_MS), the clock skew allowed on
   * command deadlines (SAGA_DEADLINE_SKEW_MS) and how long dedupe records are kept
   * (SAGA_DEDUPE_TTL_MS, 0: for ever; sagaDedupe.ts); orchestrators: the due-index shards (SAGA_DUE_SHARDS).
   */
  saga: { stepPauseMs: number; dueShards: number; deadlineSkewMs: number; dedupeTtlMs: number };
  /** Announcing entity changes and the gateway's feed of them (ENTITY_CHANGES_*; entityChanges.ts). */
  entityChanges: EntityChangeSettings;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  serviceName?: string;
  http: { host: string; port?: number; advertiseHost: string; timeouts: ServerTimeouts };
  admin: { host: string; port?: number; token?: string; operatorToken?: string };
  backends: {
    consulUrl?: string;
    redisUrl?: string;
    kafkaBrokers: string[];
    devHubUrl?: string;
  };
  gateway: {
    url: string;
    supergraphPath?: string;
    sdlTimeoutMs: number;
    /** Which discovered subgraphs may be composed; undefined: any. */
    subgraphAllow?: SubgraphAllowList;
    /** Which caller headers each subgraph receives. */
    headerRules: HeaderRules;
    /** Per client per window; undefined: no gateway rate limit. */
    rateLimit?: { limit: number; windowSec: number };
    /** Caps on open subscriptions (graphql-ws, SSE and multipart); 0: no cap. */
    subscriptions: { maxPerConnection: number; maxPerUser: number };
    /** A multipart subscription's heartbeat, every this many ms in which no event went out; 0: none. */
    multipartHeartbeatMs: number;
    /** gzip/deflate/brotli answers of 1 KiB or more to clients that ask (Accept-Encoding). */
    compressResponses: boolean;
    /** HTTP/2 to subgraphs served over TLS that offer it (ALPN); cleartext ones stay HTTP/1.1. */
    subgraphHttp2: boolean;
    /** Apollo Gateway's usage metrics to Apollo (`APOLLO_TELEMETRY_DISABLED=false`); off by default. */
    apolloTelemetry: boolean;
  };
  subgraph: {
    healthIntervalMs: number;
    /** The kit's own limits, beside `limits` (shared/subgraph/limits.ts). */
    limits: { maxTokens: number; maxRepresentations: number; maxBodyBytes: number };
  };
  resilience: {
    breaker: { timeoutMs: number; errorThresholdPercentage: number; volumeThreshold: number; resetTimeoutMs: number; rollingWindowMs: number };
    breakerOverrides: Record<string, Partial<{ timeoutMs: number; errorThresholdPercentage: number; volumeThreshold: number; resetTimeoutMs: number }>>;
    outliers: { consecutiveFailures: number; baseEjectionMs: number; maxEjectionMs: number; maxEjectedFraction: number };
    retryBudget: { ratio: number; minRetriesPerWindow: number; windowMs: number };
    dedupQueries: boolean;
  };
  /** The state store's Redis: topology (REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES), prefix, timeouts, replica waits (redis.ts). */
  redis: RedisSettings;
  /** Where caches and rate limits live (cache.ts). */
  cache: CacheSettings;
  /** The gateway's entity cache (entityCache.ts). */
  entityCache: EntityCacheSettings;
  /** What `npm start` runs: its port block and replicas (launcher.ts). */
  launcher: LauncherSettings;
  /** Kafka beyond its brokers: client, TLS, SASL, topic settings (kafka.ts). */
  kafka: KafkaSettings;
  consul: { checkInterval: string; failuresBeforeCritical: number; namespace?: string; token?: string; caCertPath?: string };
  shutdownGraceMs: number;
  bff: {
    webPort: number;
    mobilePort: number;
    rateLimitPerMinute: number;
    cacheTtlMs: number;
    gatewayTimeoutMs: number;
    sessionTtlMs: number;
    persistedOperationsPath?: string;
  };
  /** Token verification; undefined when no issuer is configured (every caller is anonymous). */
  auth?: { issuer: string; audience: string; jwksUrl: string; algorithms: string[]; clockToleranceSec: number; jwksTimeoutMs: number; jwksCacheMaxAgeSec: number };
  limits: {
    maxDepth: number;
    maxIntrospectionDepth: number;
    maxAliases: number;
    maxRootFields: number;
    maxDirectives: number;
    maxTokens: number;
    maxCost: number;
    defaultListSize: number;
    maxBatch: number;
    maxBodyBytes: number;
  };
  persistedQueries: { ttlSeconds: number; trustedDocumentsPath?: string };
  cors: { allowedOrigins: string[]; allowLocalhost: boolean };
  /** Tracing from the standard OTEL_* variables; undefined when no OTLP endpoint is set (tracing off). */
  telemetry?: TelemetrySettings;
}

/** The oldest Node major Trellis runs on (Node 24 LTS); `scripts/runtime/node24` brings it where it is missing. */
export const MIN_NODE_MAJOR = 24;

/** Refuses an older Node with a message that says how to get the right one. */
export function assertSupportedNode(version: string = process.versions.node): void {
  const major = Number(version.split('.')[0]);
  if (!(major >= MIN_NODE_MAJOR)) {
    throw new ConfigError(`Trellis needs Node ${MIN_NODE_MAJOR} or newer, this is ${version}: run it through npm scripts or scripts/runtime/node24`);
  }
}

export function loadConfig(env: Env = process.env): Config {
  // Only the benchmark's Node 20 vs 24 comparison runs Trellis on an older Node on purpose.
  if (env.TRELLIS_ALLOW_UNSUPPORTED_NODE !== '1') assertSupportedNode();
  const parsed = envSchema.safeParse(stripEmpty(env));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = issue.path.join('.');
      return `${variable}=${JSON.stringify(env[variable] ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  // Node's rules: headers must outlast keep-alive (else a reused connection can be cut mid-request), and fit in the request timeout.
  if (!(e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_KEEP_ALIVE_TIMEOUT_MS && e.HTTP_HEADERS_TIMEOUT_MS <= e.HTTP_REQUEST_TIMEOUT_MS)) {
    throw new ConfigError(
      `Invalid configuration: HTTP_HEADERS_TIMEOUT_MS=${e.HTTP_HEADERS_TIMEOUT_MS} must be above HTTP_KEEP_ALIVE_TIMEOUT_MS=${e.HTTP_KEEP_ALIVE_TIMEOUT_MS} and at most HTTP_REQUEST_TIMEOUT_MS=${e.HTTP_REQUEST_TIMEOUT_MS}`,
    );
  }
  // A rule for a subgraph the allow-list would refuse can never apply: a typo, or a token meant for a stranger.
  const allowed = e.SUBGRAPH_ALLOW === undefined ? undefined : parseAllowList(e.SUBGRAPH_ALLOW).names;
  const strangers = allowed ? Object.keys(e.HEADER_RULES.subgraphs).filter((name) => !allowed.includes(name)) : [];
  if (strangers.length > 0) {
    throw new ConfigError(`Invalid configuration: HEADER_RULES has rules for ${strangers.join(', ')}, which SUBGRAPH_ALLOW does not list`);
  }
  const telemetry = telemetrySettings(env);
  return {
    env: e.NODE_ENV,
    isProduction: e.NODE_ENV === 'production',
    production: productionOptOuts(e),
    deadlines: deadlines(e),
    supergraphPublication: supergraphPublicationSettings(e),
    saga: { stepPauseMs: e.SAGA_STEP_PAUSE_MS, dueShards: e.SAGA_DUE_SHARDS, deadlineSkewMs: e.SAGA_DEADLINE_SKEW_MS, dedupeTtlMs: sagaDedupeTtlMs(e) },
    entityChanges: entityChangeSettings(e),
    logLevel: e.LOG_LEVEL,
    serviceName: e.SERVICE_NAME,
    http: {
      host: e.HOST,
      port: e.PORT,
      advertiseHost: e.ADVERTISE_HOST ?? (e.HOST === '0.0.0.0' ? '127.0.0.1' : e.HOST),
      timeouts: { keepAliveMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS, headersMs: e.HTTP_HEADERS_TIMEOUT_MS, requestMs: e.HTTP_REQUEST_TIMEOUT_MS },
    },
    admin: { host: e.ADMIN_HOST, port: e.ADMIN_PORT, token: e.ADMIN_TOKEN, operatorToken: e.CONSOLE_OPERATOR_TOKEN },
    backends: {
      consulUrl: e.CONSUL_HTTP_ADDR,
      redisUrl: e.REDIS_URL,
      kafkaBrokers: e.KAFKA_BROKERS,
      devHubUrl: e.TRELLIS_DEVHUB_URL,
    },
    gateway: {
      url: e.GATEWAY_URL,
      supergraphPath: e.SUPERGRAPH_PATH,
      sdlTimeoutMs: e.SUBGRAPH_SDL_TIMEOUT_MS,
      subgraphAllow: e.SUBGRAPH_ALLOW === undefined ? undefined : parseAllowList(e.SUBGRAPH_ALLOW),
      headerRules: e.HEADER_RULES,
      rateLimit: e.GATEWAY_RATE_LIMIT > 0 ? { limit: e.GATEWAY_RATE_LIMIT, windowSec: e.GATEWAY_RATE_LIMIT_WINDOW_S } : undefined,
      subscriptions: { maxPerConnection: e.MAX_SUBSCRIPTIONS_PER_CONNECTION, maxPerUser: e.MAX_SUBSCRIPTIONS_PER_USER },
      multipartHeartbeatMs: e.MULTIPART_HEARTBEAT_MS,
      compressResponses: e.RESPONSE_COMPRESSION,
      subgraphHttp2: e.SUBGRAPH_HTTP2,
      apolloTelemetry: !e.APOLLO_TELEMETRY_DISABLED,
    },
    subgraph: {
      healthIntervalMs: e.SUBGRAPH_HEALTH_INTERVAL_MS,
      limits: {
        maxTokens: e.SUBGRAPH_MAX_TOKENS ?? 5 * e.MAX_TOKENS,
        maxRepresentations: e.SUBGRAPH_MAX_REPRESENTATIONS ?? e.MAX_COST,
        maxBodyBytes: e.SUBGRAPH_MAX_BODY_BYTES,
      },
    },
    resilience: {
      breaker: {
        timeoutMs: e.BREAKER_TIMEOUT_MS,
        errorThresholdPercentage: e.BREAKER_ERROR_THRESHOLD_PERCENTAGE,
        volumeThreshold: e.BREAKER_VOLUME_THRESHOLD,
        resetTimeoutMs: e.BREAKER_RESET_TIMEOUT_MS,
        rollingWindowMs: 10_000,
      },
      breakerOverrides: e.BREAKER_OVERRIDES,
      outliers: {
        consecutiveFailures: e.OUTLIER_CONSECUTIVE_FAILURES,
        baseEjectionMs: e.OUTLIER_BASE_EJECTION_MS,
        maxEjectionMs: Math.max(60_000, e.OUTLIER_BASE_EJECTION_MS),
        maxEjectedFraction: e.OUTLIER_MAX_EJECTED_PERCENT / 100,
      },
      retryBudget: { ratio: e.RETRY_BUDGET_RATIO, minRetriesPerWindow: 3, windowMs: 10_000 },
      dedupQueries: e.DEDUP_QUERIES,
    },
    redis: redisSettings(e),
    cache: cacheSettings(e),
    entityCache: entityCacheSettings(e),
    launcher: launcherSettings(e),
    kafka: kafkaSettings(e),
    auth: e.AUTH_ISSUER
      ? {
          issuer: e.AUTH_ISSUER,
          audience: e.AUTH_AUDIENCE,
          jwksUrl: e.AUTH_JWKS_URL ?? `${e.AUTH_ISSUER.replace(/\/$/, '')}/.well-known/jwks.json`,
          algorithms: e.AUTH_ALGORITHMS,
          clockToleranceSec: e.AUTH_CLOCK_TOLERANCE_S,
          jwksTimeoutMs: e.AUTH_JWKS_TIMEOUT_MS,
          jwksCacheMaxAgeSec: e.AUTH_JWKS_CACHE_MAX_AGE_S,
        }
      : undefined,
    consul: { checkInterval: e.CONSUL_CHECK_INTERVAL, failuresBeforeCritical: e.CONSUL_CHECK_FAILURES_BEFORE_CRITICAL, namespace: e.CONSUL_NAMESPACE || undefined, token: e.CONSUL_HTTP_TOKEN, caCertPath: e.CONSUL_CACERT },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    limits: {
      maxDepth: e.MAX_QUERY_DEPTH,
      maxIntrospectionDepth: e.MAX_INTROSPECTION_DEPTH,
      maxAliases: e.MAX_ALIASES,
      maxRootFields: e.MAX_ROOT_FIELDS,
      maxDirectives: e.MAX_DIRECTIVES,
      maxTokens: e.MAX_TOKENS,
      maxCost: e.MAX_COST,
      defaultListSize: e.DEFAULT_LIST_SIZE,
      maxBatch: e.MAX_BATCH,
      maxBodyBytes: e.MAX_BODY_BYTES,
    },
    persistedQueries: { ttlSeconds: e.APQ_TTL_SECONDS, trustedDocumentsPath: e.TRUSTED_DOCUMENTS },
    cors: {
      allowedOrigins: e.CORS_ORIGINS,
      allowLocalhost: e.CORS_ORIGINS.length === 0 && e.NODE_ENV !== 'production',
    },
    bff: {
      webPort: e.WEB_BFF_PORT,
      mobilePort: e.MOBILE_BFF_PORT,
      rateLimitPerMinute: e.BFF_RATE_LIMIT_PER_MINUTE,
      cacheTtlMs: e.BFF_CACHE_TTL_MS,
      gatewayTimeoutMs: e.BFF_GATEWAY_TIMEOUT_MS,
      sessionTtlMs: e.BFF_SESSION_TTL_MS,
      persistedOperationsPath: e.MOBILE_PERSISTED_OPERATIONS,
    },
    telemetry,
  };
}

/** The process's configuration: its environment over the trellis.config file in `cwd` (or TRELLIS_CONFIG), if there is one. */
export function loadProcessConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  return loadConfig(withConfigFile(env, cwd, new Set(Object.keys(envSchema.shape))));
}

/** An empty variable means "not set", so `REDIS_URL=` falls back to the default like an unset one. */
function stripEmpty(env: Env): Env {
  const out: Env = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== '') out[key] = value;
  return out;
}
