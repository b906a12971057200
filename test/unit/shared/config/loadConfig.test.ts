/**
 * The whole configuration: what a process runs on with nothing set (the defaults in docs/operators.md's Configuration table), what
 * each variable turns into, and a refusal that names the variable for each bad value.
 */
import { loadConfig, type Config } from '@trellis/kit/internal/config';
import { configRefusal } from '../../../support/configRefusal';

const DEFAULTS: Config = {
  env: 'development',
  isProduction: false,
  saga: { stepPauseMs: 0, dueShards: 16, deadlineSkewMs: 1000, dedupeTtlMs: 14 * 24 * 3600_000 },
  entityChanges: { announceRetryMs: 30_000, heartbeatMs: 1_000, silenceMs: 5_000, degradedTtlMs: 2_000 },
  logLevel: 'info',
  serviceName: undefined,
  http: {
    host: '127.0.0.1',
    port: undefined,
    advertiseHost: '127.0.0.1',
    timeouts: { keepAliveMs: 65_000, headersMs: 66_000, requestMs: 300_000 },
  },
  admin: { host: '127.0.0.1', port: undefined, token: undefined },
  backends: { consulUrl: undefined, redisUrl: undefined, kafkaBrokers: [], devHubUrl: undefined },
  gateway: {
    url: 'http://127.0.0.1:4000/graphql',
    supergraphPath: undefined,
    sdlTimeoutMs: 3000,
    subgraphAllow: undefined,
    headerRules: {
      all: {
        request: ['traceparent', 'tracestate', 'authorization', 'idempotency-key'].map((named) => ({
          propagate: { named },
        })),
      },
      subgraphs: {},
    },
    rateLimit: undefined,
    subscriptions: { maxPerConnection: 100, maxPerUser: 500 },
    multipartHeartbeatMs: 5000,
    compressResponses: true,
    subgraphHttp2: false,
    apolloTelemetry: false,
  },
  subgraph: {
    healthIntervalMs: 2000,
    limits: { maxTokens: 10_000, maxRepresentations: 5000, maxBodyBytes: 2 * 1024 * 1024 },
  },
  resilience: {
    breaker: {
      timeoutMs: 2000,
      errorThresholdPercentage: 50,
      volumeThreshold: 5,
      resetTimeoutMs: 3000,
      rollingWindowMs: 10_000,
    },
    breakerOverrides: {},
    outliers: { consecutiveFailures: 3, baseEjectionMs: 5000, maxEjectionMs: 60_000, maxEjectedFraction: 0.5 },
    retryBudget: { ratio: 0.1, minRetriesPerWindow: 3, windowMs: 10_000 },
    dedupQueries: true,
  },
  redis: { commandTimeoutMs: 2000, keyPrefix: '', topology: undefined, replicaAck: { minReplicas: 0, timeoutMs: 1000 } },
  cache: { redisUrl: undefined },
  entityCache: { mode: 'off', localMax: 10_000, maxTtlMs: 3_600_000, redisTimeoutMs: 50, prefix: 'trellis:entity:', responses: true, redisUrl: undefined },
  launcher: { portBase: 4000, replicas: 1 },
  kafka: { topicPrefix: '', client: 'kafkajs', ssl: undefined, sasl: undefined, partitions: 3, replicationFactor: undefined, topicConfigs: {}, lingerMs: 2 },
  auth: undefined,
  consul: { checkInterval: '1s', failuresBeforeCritical: 3, namespace: undefined, token: undefined, caCertPath: undefined },
  shutdownGraceMs: 10_000,
  limits: {
    maxDepth: 12,
    maxIntrospectionDepth: 2,
    maxAliases: 30,
    maxRootFields: 20,
    maxDirectives: 10,
    maxTokens: 2000,
    maxCost: 5000,
    defaultListSize: 10,
    maxBatch: 10,
    maxBodyBytes: 1_048_576,
  },
  persistedQueries: { ttlSeconds: 86_400, trustedDocumentsPath: undefined },
  cors: { allowedOrigins: [], allowLocalhost: true },
  bff: {
    webPort: 4100,
    mobilePort: 4200,
    rateLimitPerMinute: 300,
    cacheTtlMs: 2000,
    gatewayTimeoutMs: 5000,
    sessionTtlMs: 8 * 3600_000,
    persistedOperationsPath: undefined,
  },
  telemetry: undefined,
  production: {
    embeddedBackends: false,
    anySubgraph: false,
    consulWithoutToken: false,
    openAdmin: false,
    devIdentity: false,
    kafkaSaslWithoutTls: false,
    evictingStateStore: false,
    localEntityCache: false,
  },
  deadlines: { compositionTimeoutMs: 30_000, upstreamWs: { pingIntervalMs: 10_000, pongTimeoutMs: 5000 } },
  supergraphPublication: { prefix: undefined, lockDelay: '1s', sessionTtl: '10s', holderCheckTtl: '3s' },
};

/** Every variable set away from its default (but the subgraph limits that follow the gateway's: see below). */
const EVERYTHING = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'debug',
  SERVICE_NAME: 'catalog',
  HOST: '10.0.0.3',
  PORT: '4002',
  ADMIN_PORT: '9100',
  ADMIN_HOST: '0.0.0.0',
  ADMIN_TOKEN: 'a-long-admin-token-1234',
  CONSOLE_OPERATOR_TOKEN: 'eyJhbGciOiJFUzI1NiJ9.eyJzY29wZSI6InRyZWxsaXM6b3BlcmF0b3IifQ.c2ln',
  CONSUL_HTTP_ADDR: 'https://consul.internal:8501',
  REDIS_URL: 'redis://redis.internal:6379/1',
  KAFKA_BROKERS: 'k1:9092,k2:9092',
  TRELLIS_DEVHUB_URL: 'http://127.0.0.1:4999',
  REDIS_KEY_PREFIX: 'shop:',
  KAFKA_TOPIC_PREFIX: 'shop.v1_a-',
  KAFKA_SASL_MECHANISM: 'scram-sha-256',
  KAFKA_SASL_USERNAME: 'shop',
  KAFKA_SASL_PASSWORD: 'kafka-secret',
  KAFKA_PARTITIONS: '12',
  KAFKA_REPLICATION_FACTOR: '3',
  KAFKA_MIN_INSYNC_REPLICAS: '2',
  KAFKA_RETENTION_MS: '86400000',
  KAFKA_LINGER_MS: '5',
  REDIS_COMMAND_TIMEOUT_MS: '750',
  CACHE_REDIS_URL: 'redis://cache.internal:6380',
  TRELLIS_PORT_BASE: '5000',
  TRELLIS_REPLICAS: '3',
  CONSUL_NAMESPACE: 'shop',
  CONSUL_CHECK_INTERVAL: '500ms',
  CONSUL_CHECK_FAILURES_BEFORE_CRITICAL: '2',
  CONSUL_HTTP_TOKEN: 'consul-secret',
  CONSUL_CACERT: '/etc/consul/ca.pem',
  SUBGRAPH_ALLOW: 'catalog,users@10.0.0.0/8',
  AUTH_ISSUER: 'https://id.example/',
  AUTH_AUDIENCE: 'shop',
  AUTH_ALGORITHMS: 'RS256, EdDSA',
  AUTH_CLOCK_TOLERANCE_S: '30',
  AUTH_JWKS_TIMEOUT_MS: '1500',
  AUTH_JWKS_CACHE_MAX_AGE_S: '120',
  GATEWAY_URL: 'http://gateway.internal:4000/graphql',
  SUPERGRAPH_PATH: 'supergraph.graphql',
  SUBGRAPH_SDL_TIMEOUT_MS: '900',
  SUBGRAPH_HEALTH_INTERVAL_MS: '700',
  BREAKER_TIMEOUT_MS: '1200',
  BREAKER_ERROR_THRESHOLD_PERCENTAGE: '25',
  BREAKER_VOLUME_THRESHOLD: '8',
  BREAKER_RESET_TIMEOUT_MS: '4500',
  BREAKER_OVERRIDES: '{"catalog":{"timeoutMs":500,"volumeThreshold":2}}',
  HEADER_RULES: '{"subgraphs":{"catalog":{"request":[{"remove":{"named":"Authorization"}}]}}}',
  OUTLIER_CONSECUTIVE_FAILURES: '4',
  OUTLIER_BASE_EJECTION_MS: '90000',
  OUTLIER_MAX_EJECTED_PERCENT: '30',
  RETRY_BUDGET_RATIO: '0.25',
  DEDUP_QUERIES: 'false',
  RESPONSE_COMPRESSION: 'false',
  SUBGRAPH_HTTP2: 'true',
  APOLLO_TELEMETRY_DISABLED: 'false',
  SHUTDOWN_GRACE_MS: '2500',
  SAGA_STEP_PAUSE_MS: '300',
  SAGA_DEDUPE_TTL_MS: '1300000000',
  KAFKA_OFFSETS_RETENTION_MS: '86400000',
  SAGA_DEADLINE_SKEW_MS: '2500',
  ENTITY_CHANGES_ANNOUNCE_RETRY_MS: '10000',
  ENTITY_CHANGES_HEARTBEAT_MS: '500',
  ENTITY_CHANGES_SILENCE_MS: '3000',
  ENTITY_CHANGES_DEGRADED_TTL_MS: '1000',
  HTTP_KEEP_ALIVE_TIMEOUT_MS: '5000',
  HTTP_HEADERS_TIMEOUT_MS: '6000',
  HTTP_REQUEST_TIMEOUT_MS: '6000',
  MAX_QUERY_DEPTH: '7',
  MAX_INTROSPECTION_DEPTH: '1',
  MAX_ALIASES: '0',
  MAX_ROOT_FIELDS: '3',
  MAX_DIRECTIVES: '4',
  MAX_TOKENS: '800',
  MAX_COST: '900',
  DEFAULT_LIST_SIZE: '5',
  MAX_BATCH: '2',
  MAX_BODY_BYTES: '4096',
  APQ_TTL_SECONDS: '60',
  TRUSTED_DOCUMENTS: 'manifest.json',
  CORS_ORIGINS: 'https://shop.example , https://admin.example',
  WEB_BFF_PORT: '5100',
  MOBILE_BFF_PORT: '5200',
  GATEWAY_RATE_LIMIT: '50',
  GATEWAY_RATE_LIMIT_WINDOW_S: '10',
  MULTIPART_HEARTBEAT_MS: '250',
  BFF_RATE_LIMIT_PER_MINUTE: '30',
  BFF_CACHE_TTL_MS: '0',
  BFF_GATEWAY_TIMEOUT_MS: '800',
  BFF_SESSION_TTL_MS: '60000',
  MOBILE_PERSISTED_OPERATIONS: 'mobile-ops.json',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
};

const refusal = configRefusal;

describe('loadConfig: what each variable becomes', () => {
  it('runs the embedded platform on the documented defaults when nothing is set', () => {
    expect(loadConfig({})).toEqual(DEFAULTS);
  });

  it('reads every variable', () => {
    const { gateway, ...config } = loadConfig(EVERYTHING);
    expect(config).toEqual({
      env: 'test',
      isProduction: false,
      saga: { stepPauseMs: 300, dueShards: 16, deadlineSkewMs: 2500, dedupeTtlMs: 1_300_000_000 },
      entityChanges: { announceRetryMs: 10_000, heartbeatMs: 500, silenceMs: 3_000, degradedTtlMs: 1_000 },
      logLevel: 'debug',
      serviceName: 'catalog',
      http: {
        host: '10.0.0.3',
        port: 4002,
        advertiseHost: '10.0.0.3',
        timeouts: { keepAliveMs: 5000, headersMs: 6000, requestMs: 6000 },
      },
      admin: { host: '0.0.0.0', port: 9100, token: 'a-long-admin-token-1234', operatorToken: 'eyJhbGciOiJFUzI1NiJ9.eyJzY29wZSI6InRyZWxsaXM6b3BlcmF0b3IifQ.c2ln' },
      backends: {
        consulUrl: 'https://consul.internal:8501',
        redisUrl: 'redis://redis.internal:6379/1',
        kafkaBrokers: ['k1:9092', 'k2:9092'],
        devHubUrl: 'http://127.0.0.1:4999',
      },
      subgraph: {
        healthIntervalMs: 700,
        limits: { maxTokens: 4000, maxRepresentations: 900, maxBodyBytes: 2 * 1024 * 1024 },
      },
      resilience: {
        breaker: {
          timeoutMs: 1200,
          errorThresholdPercentage: 25,
          volumeThreshold: 8,
          resetTimeoutMs: 4500,
          rollingWindowMs: 10_000,
        },
        breakerOverrides: { catalog: { timeoutMs: 500, volumeThreshold: 2 } },
        outliers: { consecutiveFailures: 4, baseEjectionMs: 90_000, maxEjectionMs: 90_000, maxEjectedFraction: 0.3 },
        retryBudget: { ratio: 0.25, minRetriesPerWindow: 3, windowMs: 10_000 },
        dedupQueries: false,
      },
      redis: { commandTimeoutMs: 750, keyPrefix: 'shop:', topology: { kind: 'standalone', url: 'redis://redis.internal:6379/1' }, replicaAck: { minReplicas: 0, timeoutMs: 1000 } },
      cache: { redisUrl: 'redis://cache.internal:6380' },
      // Read by its own test (configEntityCache): the defaults, on the cache Redis.
      entityCache: { ...DEFAULTS.entityCache, redisUrl: 'redis://cache.internal:6380' },
      launcher: { portBase: 5000, replicas: 3 },
      kafka: {
        topicPrefix: 'shop.v1_a-',
        client: 'kafkajs',
        ssl: undefined,
        sasl: { mechanism: 'scram-sha-256', username: 'shop', password: 'kafka-secret' },
        partitions: 12,
        replicationFactor: 3,
        topicConfigs: { 'min.insync.replicas': '2', 'retention.ms': '86400000' },
        lingerMs: 5,
      },
      auth: {
        issuer: 'https://id.example/',
        audience: 'shop',
        jwksUrl: 'https://id.example/.well-known/jwks.json',
        algorithms: ['RS256', 'EdDSA'],
        clockToleranceSec: 30,
        jwksTimeoutMs: 1500,
        jwksCacheMaxAgeSec: 120,
      },
      consul: { checkInterval: '500ms', failuresBeforeCritical: 2, namespace: 'shop', token: 'consul-secret', caCertPath: '/etc/consul/ca.pem' },
      shutdownGraceMs: 2500,
      limits: {
        maxDepth: 7,
        maxIntrospectionDepth: 1,
        maxAliases: 0,
        maxRootFields: 3,
        maxDirectives: 4,
        maxTokens: 800,
        maxCost: 900,
        defaultListSize: 5,
        maxBatch: 2,
        maxBodyBytes: 4096,
      },
      persistedQueries: { ttlSeconds: 60, trustedDocumentsPath: 'manifest.json' },
      cors: { allowedOrigins: ['https://shop.example', 'https://admin.example'], allowLocalhost: false },
      bff: {
        webPort: 5100,
        mobilePort: 5200,
        rateLimitPerMinute: 30,
        cacheTtlMs: 0,
        gatewayTimeoutMs: 800,
        sessionTtlMs: 60_000,
        persistedOperationsPath: 'mobile-ops.json',
      },
      telemetry: expect.objectContaining({ tracesUrl: 'http://jaeger:4318/v1/traces' }),
      // Read by their own modules' tests (configProduction, configDeadlines): the defaults here.
      production: DEFAULTS.production,
      deadlines: DEFAULTS.deadlines,
      supergraphPublication: DEFAULTS.supergraphPublication,
    });
    const { subgraphAllow, ...rest } = gateway;
    expect(rest).toEqual({
      url: 'http://gateway.internal:4000/graphql',
      supergraphPath: 'supergraph.graphql',
      sdlTimeoutMs: 900,
      headerRules: {
        all: DEFAULTS.gateway.headerRules.all,
        subgraphs: { catalog: { request: [{ remove: { named: 'authorization' } }] } },
      },
      rateLimit: { limit: 50, windowSec: 10 },
      subscriptions: DEFAULTS.gateway.subscriptions,
      multipartHeartbeatMs: 250,
      compressResponses: false,
      subgraphHttp2: true,
      apolloTelemetry: true,
    });
    expect(subgraphAllow?.names).toEqual(['catalog', 'users']);
    expect(subgraphAllow?.refusal({ name: 'users', url: 'http://192.168.0.1/graphql' })).toMatch(/not allowed/);
  });

  it("derives a subgraph's own limits from the gateway's (tokens: five times MAX_TOKENS; representations: MAX_COST) unless they are set", () => {
    expect(loadConfig({ MAX_TOKENS: '100', MAX_COST: '70' }).subgraph.limits).toEqual({
      maxTokens: 500,
      maxRepresentations: 70,
      maxBodyBytes: 2 * 1024 * 1024,
    });
    expect(
      loadConfig({
        MAX_TOKENS: '100',
        SUBGRAPH_MAX_TOKENS: '123',
        SUBGRAPH_MAX_REPRESENTATIONS: '45',
        SUBGRAPH_MAX_BODY_BYTES: '6789',
      }).subgraph.limits,
    ).toEqual({
      maxTokens: 123,
      maxRepresentations: 45,
      maxBodyBytes: 6789,
    });
  });

  it('says production is production', () => {
    expect(loadConfig({ NODE_ENV: 'production' })).toMatchObject({
      env: 'production',
      isProduction: true,
      cors: { allowLocalhost: false },
    });
  });

  it('advertises loopback for a process listening on every interface, unless told what to advertise', () => {
    expect(loadConfig({ HOST: '0.0.0.0' }).http.advertiseHost).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0', ADVERTISE_HOST: 'catalog-2.internal' }).http.advertiseHost).toBe(
      'catalog-2.internal',
    );
    expect(loadConfig({ HOST: '10.1.2.3', ADVERTISE_HOST: 'catalog-2.internal' }).http.advertiseHost).toBe(
      'catalog-2.internal',
    );
  });

  it('keeps the outlier ejection ceiling at a minute, or the base ejection when that is longer', () => {
    expect(loadConfig({ OUTLIER_BASE_EJECTION_MS: '59999' }).resilience.outliers.maxEjectionMs).toBe(60_000);
    expect(loadConfig({ OUTLIER_BASE_EJECTION_MS: '60001' }).resilience.outliers.maxEjectionMs).toBe(60_001);
  });

  it('finds the JWKS under the issuer, with or without its trailing slash, unless AUTH_JWKS_URL says where', () => {
    expect(loadConfig({ AUTH_ISSUER: 'https://id.example' }).auth?.jwksUrl).toBe(
      'https://id.example/.well-known/jwks.json',
    );
    expect(loadConfig({ AUTH_ISSUER: 'https://id.example/realms/shop/' }).auth?.jwksUrl).toBe(
      'https://id.example/realms/shop/.well-known/jwks.json',
    );
    expect(
      loadConfig({ AUTH_ISSUER: 'https://id.example', AUTH_JWKS_URL: 'https://keys.example/jwks' }).auth?.jwksUrl,
    ).toBe('https://keys.example/jwks');
  });

  it('gives an issuer the default audience and asymmetric algorithms', () => {
    expect(loadConfig({ AUTH_ISSUER: 'https://id.example' }).auth).toEqual({
      issuer: 'https://id.example',
      audience: 'trellis',
      jwksUrl: 'https://id.example/.well-known/jwks.json',
      algorithms: ['ES256', 'RS256', 'PS256', 'EdDSA'],
      clockToleranceSec: 5,
      jwksTimeoutMs: 3000,
      jwksCacheMaxAgeSec: 600,
    });
  });

  it('trims a URL and list items, and treats empty or blank ones as unset', () => {
    const config = loadConfig({
      REDIS_URL: '  redis://r:6379  ',
      CORS_ORIGINS: ' , https://a.example ,, ',
      KAFKA_BROKERS: '',
      CONSUL_HTTP_ADDR: '',
    });
    expect(config.backends).toEqual({
      consulUrl: undefined,
      redisUrl: 'redis://r:6379',
      kafkaBrokers: [],
      devHubUrl: undefined,
    });
    expect(config.cors).toEqual({ allowedOrigins: ['https://a.example'], allowLocalhost: false });
  });

  it('treats an empty variable as unset, so it takes the default rather than an empty value', () => {
    expect(loadConfig({ PORT: '', ADMIN_PORT: '', MAX_COST: '', HOST: '' })).toMatchObject({
      http: { host: '127.0.0.1', port: undefined },
      admin: { port: undefined },
      limits: { maxCost: 5000 },
    });
  });

  it('reads each on/off switch from true and false only', () => {
    expect(loadConfig({ DEDUP_QUERIES: 'true', RESPONSE_COMPRESSION: 'true', SUBGRAPH_HTTP2: 'false' })).toMatchObject({
      gateway: { compressResponses: true, subgraphHttp2: false },
      resilience: { dedupQueries: true },
    });
    for (const variable of ['DEDUP_QUERIES', 'RESPONSE_COMPRESSION', 'SUBGRAPH_HTTP2'])
      expect(refusal({ [variable]: 'yes' })).toContain(`${variable}="yes"`);
  });

  it('accepts each log level and environment it documents', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      expect(loadConfig({ LOG_LEVEL: level }).logLevel).toBe(level);
    for (const env of ['development', 'production', 'test']) expect(loadConfig({ NODE_ENV: env }).env).toBe(env);
  });
});

describe('loadConfig: refusals name the variable and the value', () => {
  it.each([
    ['KAFKA_TOPIC_PREFIX', 'shop topics', 'letters, digits, dots, dashes and underscores only'],
    ['KAFKA_TOPIC_PREFIX', 'shop!', 'letters, digits, dots, dashes and underscores only'],
    ['KAFKA_TOPIC_PREFIX', '!shop', 'letters, digits, dots, dashes and underscores only'],
    ['CONSUL_NAMESPACE', 'a/b', 'letters, digits, dots, dashes and underscores only'],
    ['CONSUL_NAMESPACE', 'ns!', 'letters, digits, dots, dashes and underscores only'],
    ['CONSUL_CHECK_INTERVAL', '1h', 'a duration like 1s or 500ms'],
    ['CONSUL_CHECK_INTERVAL', '10', 'a duration like 1s or 500ms'],
    ['CONSUL_CHECK_INTERVAL', 's', 'a duration like 1s or 500ms'],
    ['CONSUL_CHECK_INTERVAL', 'x1s', 'a duration like 1s or 500ms'],
    ['CONSUL_CHECK_INTERVAL', '1sx', 'a duration like 1s or 500ms'],
    ['ADMIN_TOKEN', 'short', 'at least 16 characters'],
    ['CONSOLE_OPERATOR_TOKEN', 'Bearer abc.def.ghi', 'a JWT (three base64url parts separated by dots)'],
    ['CONSOLE_OPERATOR_TOKEN', 'abc.def', 'a JWT (three base64url parts separated by dots)'],
    ['AUTH_ALGORITHMS', 'HS256', 'asymmetric algorithms only, e.g. ES256,RS256'],
    ['AUTH_ALGORITHMS', 'RS256,none', 'asymmetric algorithms only, e.g. ES256,RS256'],
    ['AUTH_ALGORITHMS', 'RS256x', 'asymmetric algorithms only, e.g. ES256,RS256'],
    ['AUTH_ALGORITHMS', 'xES256', 'asymmetric algorithms only, e.g. ES256,RS256'],
    ['AUTH_ALGORITHMS', 'EdDSAx', 'asymmetric algorithms only, e.g. ES256,RS256'],
    ['AUTH_ALGORITHMS', 'xEdDSA', 'asymmetric algorithms only, e.g. ES256,RS256'],
    ['AUTH_ALGORITHMS', ' , ', 'asymmetric algorithms only, e.g. ES256,RS256'],
    ['SUBGRAPH_ALLOW', 'users@', '"users@" has an empty host'],
    ['BREAKER_OVERRIDES', '{catalog', 'must be JSON like {"catalog":{"timeoutMs":500}}: '],
    ['BREAKER_OVERRIDES', '{"catalog":{"timeoutMS":500}}', 'must be JSON like {"catalog":{"timeoutMs":500}}: '],
    [
      'HEADER_RULES',
      '{subgraphs',
      'must be JSON like {"subgraphs":{"catalog":{"request":[{"remove":{"named":"authorization"}}]}}}: ',
    ],
    [
      'HEADER_RULES',
      '{"subgraphs":{"catalog":{"request":[{"remove":{"named":"host"}}]}}}',
      'subgraphs.catalog.request.0.remove.named: host is set by the gateway itself',
    ],
    ['HEADER_RULES', '[]', '(root): '],
    ['GATEWAY_URL', 'gateway', 'Invalid url'],
    ['CACHE_REDIS_URL', 'cache:6379', 'a redis:// or rediss:// URL'],
    ['CACHE_REDIS_URL', 'http://cache:6379', 'a redis:// or rediss:// URL'],
    ['TRELLIS_REPLICAS', '0', 'greater than or equal to 1'],
    ['CONSUL_CHECK_FAILURES_BEFORE_CRITICAL', '0', 'greater than or equal to 1'],
    ['CONSUL_CHECK_FAILURES_BEFORE_CRITICAL', '101', 'less than or equal to 100'],
    ['TRELLIS_REPLICAS', '1.5', 'Expected integer'],
    ['TRELLIS_PORT_BASE', '80', 'a port from 1024'],
    ['TRELLIS_PORT_BASE', '64001', 'a port up to 64000, so every offset fits'],
    ['AUTH_ISSUER', 'issuer', 'Invalid url'],
    ['SAGA_DEADLINE_SKEW_MS', '-1', 'greater than or equal to 0'],
    ['SAGA_DEADLINE_SKEW_MS', '60001', 'less than or equal to 60000'],
    ['ENTITY_CHANGES_ANNOUNCE_RETRY_MS', '-1', 'greater than or equal to 0'],
    ['ENTITY_CHANGES_HEARTBEAT_MS', '49', 'greater than or equal to 50'],
    ['ENTITY_CHANGES_SILENCE_MS', 'soon', 'Expected number'],
    ['ENTITY_CHANGES_DEGRADED_TTL_MS', '3600001', 'less than or equal to 3600000'],
    ['MULTIPART_HEARTBEAT_MS', '-1', 'greater than or equal to 0'],
    ['MULTIPART_HEARTBEAT_MS', '5s', 'Expected number'],
  ])('refuses %s=%s', (variable, value, problem) => {
    const message = refusal({ [variable]: value });
    expect(message.startsWith(`Invalid configuration: ${variable}=${JSON.stringify(value)}: `)).toBe(true);
    expect(message).toContain(problem);
  });

  it.each([
    ['KAFKA_TOPIC_PREFIX', 'Shop.v1_a-9'],
    ['CONSUL_NAMESPACE', 'Team_a.b-9'],
    ['CONSUL_CHECK_INTERVAL', '250ms'],
    ['CONSUL_CHECK_INTERVAL', '15s'],
    ['CONSUL_CHECK_INTERVAL', '2m'],
    ['AUTH_ALGORITHMS', 'RS384,PS512,ES256,EdDSA'],
    ['ADMIN_TOKEN', '0123456789abcdef'],
  ])('accepts %s=%s', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).not.toThrow();
  });

  it('lists every problem at once, each with its variable', () => {
    expect(refusal({ PORT: 'eighty', LOG_LEVEL: 'loud' })).toMatch(
      /^Invalid configuration: LOG_LEVEL="loud": [^;]+; PORT="eighty": .+$/,
    );
  });

  it('refuses a change-feed silence shorter than two heartbeats, and takes one of exactly two', () => {
    expect(refusal({ ENTITY_CHANGES_HEARTBEAT_MS: '1000', ENTITY_CHANGES_SILENCE_MS: '1999' })).toBe(
      'Invalid configuration: ENTITY_CHANGES_SILENCE_MS=1999 must be at least twice ENTITY_CHANGES_HEARTBEAT_MS=1000',
    );
    expect(loadConfig({ ENTITY_CHANGES_ANNOUNCE_RETRY_MS: '0', ENTITY_CHANGES_HEARTBEAT_MS: '1000', ENTITY_CHANGES_SILENCE_MS: '2000', ENTITY_CHANGES_DEGRADED_TTL_MS: '500' }).entityChanges).toEqual({
      announceRetryMs: 0,
      heartbeatMs: 1000,
      silenceMs: 2000,
      degradedTtlMs: 500,
    });
  });

  it('refuses header timeouts that do not outlast keep-alive or do not fit in the request timeout, and accepts the edges', () => {
    const timeouts = (keepAlive: number, headers: number, request: number) => ({
      HTTP_KEEP_ALIVE_TIMEOUT_MS: String(keepAlive),
      HTTP_HEADERS_TIMEOUT_MS: String(headers),
      HTTP_REQUEST_TIMEOUT_MS: String(request),
    });
    expect(refusal(timeouts(5000, 5000, 9000))).toBe(
      'Invalid configuration: HTTP_HEADERS_TIMEOUT_MS=5000 must be above HTTP_KEEP_ALIVE_TIMEOUT_MS=5000 and at most HTTP_REQUEST_TIMEOUT_MS=9000',
    );
    expect(refusal(timeouts(5000, 9001, 9000))).toContain('HTTP_HEADERS_TIMEOUT_MS=9001 must be above');
    expect(loadConfig(timeouts(5000, 5001, 5001)).http.timeouts).toEqual({
      keepAliveMs: 5000,
      headersMs: 5001,
      requestMs: 5001,
    });
  });

  it('refuses header rules for a subgraph the allow-list does not list, and takes those for one it does', () => {
    const rules = (names: string[]) =>
      JSON.stringify({ subgraphs: Object.fromEntries(names.map((name) => [name, { request: [] }])) });
    expect(refusal({ SUBGRAPH_ALLOW: 'catalog', HEADER_RULES: rules(['catalog', 'users', 'orders']) })).toBe(
      'Invalid configuration: HEADER_RULES has rules for users, orders, which SUBGRAPH_ALLOW does not list',
    );
    expect(
      Object.keys(
        loadConfig({ SUBGRAPH_ALLOW: 'catalog', HEADER_RULES: rules(['catalog']) }).gateway.headerRules.subgraphs,
      ),
    ).toEqual(['catalog']);
    expect(Object.keys(loadConfig({ HEADER_RULES: rules(['anyone']) }).gateway.headerRules.subgraphs)).toEqual([
      'anyone',
    ]);
  });
});
