/**
 * What `NODE_ENV=production` refuses at start: a platform that would quietly split its state per
 * process (embedded backends), compose whatever registers in Consul (no allow-list, no ACL token),
 * expose its admin listener to the network without a token, or sign tokens for anyone (the dev
 * identity provider), or send Kafka credentials over plaintext. Each refusal names the variable that fixes it and the one that opts out.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigError } from '../errors';
import type { Config } from './index';

const optOut = z.enum(['true', 'false']).default('false').transform((value) => value === 'true');

/** The opt-out variables, merged into the config schema (index.ts). */
export const productionEnvShape = {
  /** Production on the in-process or dev-hub state store, event bus or discovery. */
  TRELLIS_ALLOW_EMBEDDED_BACKENDS: optOut,
  /** Production gateway composing from Consul without SUBGRAPH_ALLOW. */
  TRELLIS_ALLOW_ANY_SUBGRAPH: optOut,
  /** Production on Consul without CONSUL_HTTP_TOKEN. */
  TRELLIS_ALLOW_CONSUL_WITHOUT_TOKEN: optOut,
  /** Production admin listener off loopback without ADMIN_TOKEN. */
  TRELLIS_ALLOW_OPEN_ADMIN: optOut,
  /** Production running the development identity provider. */
  TRELLIS_ALLOW_DEV_IDENTITY: optOut,
  /** Production logging in to Kafka (KAFKA_SASL_MECHANISM) without KAFKA_SSL. */
  TRELLIS_ALLOW_KAFKA_SASL_WITHOUT_TLS: optOut,
  /** Production on a state store Redis whose maxmemory-policy evicts keys (checked once connected: shared/backends/evictionPolicy.ts). */
  TRELLIS_ALLOW_EVICTING_STATE_STORE: optOut,
  /** Production gateway with ENTITY_CACHE on or shadow but no CACHE_REDIS_URL (each gateway caches alone). */
  TRELLIS_ALLOW_LOCAL_ENTITY_CACHE: optOut,
};

/** Which production refusals the operator waived, by name (config.production). */
export interface ProductionOptOuts {
  embeddedBackends: boolean;
  anySubgraph: boolean;
  consulWithoutToken: boolean;
  openAdmin: boolean;
  devIdentity: boolean;
  kafkaSaslWithoutTls: boolean;
  evictingStateStore: boolean;
  localEntityCache: boolean;
}

export function productionOptOuts(env: { [K in keyof typeof productionEnvShape]: boolean }): ProductionOptOuts {
  return {
    embeddedBackends: env.TRELLIS_ALLOW_EMBEDDED_BACKENDS,
    anySubgraph: env.TRELLIS_ALLOW_ANY_SUBGRAPH,
    consulWithoutToken: env.TRELLIS_ALLOW_CONSUL_WITHOUT_TOKEN,
    openAdmin: env.TRELLIS_ALLOW_OPEN_ADMIN,
    devIdentity: env.TRELLIS_ALLOW_DEV_IDENTITY,
    kafkaSaslWithoutTls: env.TRELLIS_ALLOW_KAFKA_SASL_WITHOUT_TLS,
    evictingStateStore: env.TRELLIS_ALLOW_EVICTING_STATE_STORE,
    localEntityCache: env.TRELLIS_ALLOW_LOCAL_ENTITY_CACHE,
  };
}

export type BackendPort = 'discovery' | 'state' | 'events';

/** What a process runs, so it is held only to the rules that concern it (an identity provider connects no backend). */
export interface ProcessProfile {
  /** The backend ports it connects (connectBackends' `uses`). */
  backends: readonly BackendPort[];
  /** Composes a supergraph from discovery (the gateway), so SUBGRAPH_ALLOW decides whom it trusts. */
  composes?: boolean;
  /** Runs the admin listener on ADMIN_HOST. */
  admin?: boolean;
  /** Runs the development identity provider. */
  devIdentity?: boolean;
  /** Runs the entity cache (the gateway), so ENTITY_CACHE without CACHE_REDIS_URL concerns it. */
  cachesEntities?: boolean;
}

export interface ProductionProblem {
  /** What is unsafe, naming the variable that would make it safe. */
  problem: string;
  /** The variable that accepts it anyway. */
  optOut: string;
}

const BACKEND_VARIABLE: Record<BackendPort, { name: string; variable: string }> = {
  state: { name: 'state store', variable: 'REDIS_URL' },
  events: { name: 'event bus', variable: 'KAFKA_BROKERS' },
  discovery: { name: 'discovery', variable: 'CONSUL_HTTP_ADDR' },
};

/** Every reason this process should not start in production; empty outside production. */
export function productionProblems(config: Config, profile: ProcessProfile): ProductionProblem[] {
  if (!config.isProduction) return [];
  const { backends, production: allow } = config;
  const problems: ProductionProblem[] = [];
  const isReal: Record<BackendPort, boolean> = { state: !!config.redis.topology, events: backends.kafkaBrokers.length > 0, discovery: !!backends.consulUrl };
  if (!allow.embeddedBackends) {
    const embedded = backends.devHubUrl ? 'the dev hub' : 'in memory';
    for (const port of profile.backends.filter((used) => !isReal[used])) {
      const { name, variable } = BACKEND_VARIABLE[port];
      problems.push({ problem: `the ${name} is embedded (${embedded}): ${variable} is not set`, optOut: 'TRELLIS_ALLOW_EMBEDDED_BACKENDS' });
    }
  }
  const onConsul = profile.backends.includes('discovery') && isReal.discovery;
  if (onConsul && profile.composes && !config.gateway.subgraphAllow && !allow.anySubgraph) {
    problems.push({ problem: 'Consul discovery with no allow-list: any service registered in Consul is composed and called; set SUBGRAPH_ALLOW', optOut: 'TRELLIS_ALLOW_ANY_SUBGRAPH' });
  }
  if (onConsul && !config.consul.token && !allow.consulWithoutToken) {
    problems.push({ problem: 'Consul discovery with no ACL token: set CONSUL_HTTP_TOKEN', optOut: 'TRELLIS_ALLOW_CONSUL_WITHOUT_TOKEN' });
  }
  if (profile.admin && !isLoopback(config.admin.host) && !config.admin.token && !allow.openAdmin) {
    problems.push({ problem: `the admin listener is on ADMIN_HOST=${config.admin.host}, off loopback, with no ADMIN_TOKEN`, optOut: 'TRELLIS_ALLOW_OPEN_ADMIN' });
  }
  const { sasl, ssl } = config.kafka;
  if (profile.backends.includes('events') && isReal.events && sasl && !ssl && !allow.kafkaSaslWithoutTls) {
    // A PLAIN password, a bearer token, and with SCRAM every event too, readable on the wire.
    problems.push({ problem: `KAFKA_SASL_MECHANISM=${sasl.mechanism} without KAFKA_SSL=true: the Kafka login and every event cross the network in clear`, optOut: 'TRELLIS_ALLOW_KAFKA_SASL_WITHOUT_TLS' });
  }
  // Never the state store: without the cache Redis every gateway would fill and miss on its own.
  if (profile.cachesEntities && config.entityCache.mode !== 'off' && !config.entityCache.redisUrl && !allow.localEntityCache) {
    problems.push({ problem: `ENTITY_CACHE=${config.entityCache.mode} with no CACHE_REDIS_URL: each gateway would keep its own entity cache; set CACHE_REDIS_URL`, optOut: 'TRELLIS_ALLOW_LOCAL_ENTITY_CACHE' });
  }
  if (profile.devIdentity && !allow.devIdentity) {
    problems.push({ problem: 'the development identity provider signs tokens for any subject and scopes: set AUTH_ISSUER to your issuer', optOut: 'TRELLIS_ALLOW_DEV_IDENTITY' });
  }
  return problems;
}

/**
 * What a subgraph that asks other subgraphs directly (the kit's `peerSubgraphs`) adds to its
 * process's refusals: on Consul with no allow-list, anything registered under a peer's name would be
 * sent callers' tokens and believed.
 */
export function peerCallProblems(config: Config): ProductionProblem[] {
  if (!config.isProduction || !config.backends.consulUrl || config.gateway.subgraphAllow || config.production.anySubgraph) return [];
  return [{ problem: 'asking peer subgraphs on Consul with no allow-list: any service registered under a peer\'s name is sent callers\' tokens and believed; set SUBGRAPH_ALLOW', optOut: 'TRELLIS_ALLOW_ANY_SUBGRAPH' }];
}

/** Throws one ConfigError naming every problem and its opt-out, so an operator fixes them all in one go. */
export function assertSafeForProduction(config: Config, profile: ProcessProfile): void {
  refuseUnsafe(productionProblems(config, profile));
}

/** The refusal of assertSafeForProduction, also for problems found only once a backend answers (an evicting Redis). */
export function refuseUnsafe(problems: ProductionProblem[]): void {
  if (problems.length === 0) return;
  const lines = problems.map(({ problem, optOut }) => `  - ${problem} (or ${optOut}=true to accept it)`);
  throw new ConfigError(`NODE_ENV=production refuses to start unsafe:\n${lines.join('\n')}`);
}

/** 127.0.0.0/8, ::1 and `localhost`: reachable only from this machine. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}
