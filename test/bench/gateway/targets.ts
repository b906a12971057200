/** What is measured: the subgraph itself, plain Apollo Gateway, Trellis's gateway and Hive Gateway. */
import path from 'node:path';
import type { BenchQuery } from './queries';
import type { SpawnSpec } from './processes';
import { ensureHiveGateway, HIVE_DIR } from './hive';

const ROOT = path.resolve(__dirname, '..', '..', '..');

export interface TargetContext {
  /** The composed supergraph, `@authenticated`/`@requiresScopes` linked `for: SECURITY`. */
  supergraphPath: string;
  /** The same through liftEnforcedSecurityFeatures, for gateways that do not enforce them and refuse them otherwise. */
  liftedSupergraphPath: string;
  /** AUTH_ISSUER for gateways that verify tokens themselves (Trellis). */
  authIssuer: string;
  /** Subgraph name to its `/graphql` URL. */
  subgraphUrls: Record<string, string>;
  /** A free port for the gateway under test. */
  port: number;
  log(line: string): void;
}

export interface PreparedTarget {
  /** The gateway process to start; none for `direct`. */
  spawn?: SpawnSpec;
  /** Where to send `query`, or undefined when this target cannot answer it. */
  urlFor(query: BenchQuery): string | undefined;
}

export interface Target {
  name: string;
  /** One line on what runs, for the results. */
  description: string;
  prepare(context: TargetContext): Promise<PreparedTarget>;
}

// Same mode for every gateway: no introspection, no stack traces, as deployed.
const PRODUCTION = { NODE_ENV: 'production' };
const tsxNode = (script: string, args: string[], env: Record<string, string>, node = process.execPath): SpawnSpec => ({
  command: node,
  args: ['--import', 'tsx', path.join(ROOT, script), ...args],
  cwd: ROOT,
  env: { ...PRODUCTION, ...env },
});
const gatewayUrl = (port: number) => () => `http://127.0.0.1:${port}/graphql`;

/** An older Node to compare runtimes with (BENCH_NODE20, default /usr/bin/node), for the `-node20` targets. */
const NODE20 = process.env.BENCH_NODE20 ?? '/usr/bin/node';
// Trellis refuses Node < 24 at start; the runtime comparison alone lifts that.
const OLD_NODE = { TRELLIS_ALLOW_UNSUPPORTED_NODE: '1' };

export const TARGETS: Target[] = [
  {
    name: 'direct',
    description: 'the query sent straight to its subgraph (single-subgraph queries only): the floor',
    prepare: async ({ subgraphUrls }) => ({
      urlFor: (query) => (query.subgraphs.length === 1 ? subgraphUrls[query.subgraphs[0]] : undefined),
    }),
  },
  {
    name: 'apollo',
    description:
      'plain @apollo/gateway + @apollo/server on express 5, static supergraph (security features lifted), RemoteGraphQLDataSource forwarding `authorization`; verifies no token and enforces no @authenticated/@requiresScopes (Apollo Gateway does neither): the baseline',
    prepare: async ({ liftedSupergraphPath, port }) => ({
      spawn: tsxNode('test/bench/gateway/apolloGateway.ts', [liftedSupergraphPath, String(port)], {}),
      urlFor: gatewayUrl(port),
    }),
  },
  {
    name: 'trellis',
    description:
      'gateway/main.ts --supergraph (static mode), default settings (breakers, balancing, retries, dedup, metrics), AUTH_ISSUER set: verifies every JWT against the JWKS and enforces @authenticated/@requiresScopes',
    prepare: async ({ supergraphPath, authIssuer, port }) => ({
      spawn: tsxNode('gateway/main.ts', ['--supergraph', supergraphPath], { PORT: String(port), HOST: '127.0.0.1', AUTH_ISSUER: authIssuer }),
      urlFor: gatewayUrl(port),
    }),
  },
  {
    name: 'trellis-nodedup',
    description: 'the same with DEDUP_QUERIES=false: every request makes its own subgraph calls, as plain Apollo does',
    prepare: async ({ supergraphPath, authIssuer, port }) => ({
      spawn: tsxNode('gateway/main.ts', ['--supergraph', supergraphPath], { PORT: String(port), HOST: '127.0.0.1', AUTH_ISSUER: authIssuer, DEDUP_QUERIES: 'false' }),
      urlFor: gatewayUrl(port),
    }),
  },
  {
    name: 'hive',
    description:
      'Hive Gateway CLI `hive-gateway supergraph` (one process, no fork), from test/bench/gateway/hive/, config hive/gateway.config.mjs forwarding `authorization`; verifies no token and enforces no @authenticated/@requiresScopes (no JWT plugin configured)',
    prepare: async ({ supergraphPath, port, log }) => {
      const bin = await ensureHiveGateway(log);
      return {
        spawn: {
          command: process.execPath,
          args: [bin, 'supergraph', supergraphPath, '--config-path', path.join(HIVE_DIR, 'gateway.config.mjs'), '--port', String(port), '--host', '127.0.0.1', '--fork', '1'],
          cwd: HIVE_DIR,
          env: PRODUCTION,
        },
        urlFor: gatewayUrl(port),
      };
    },
  },
  {
    name: 'apollo-node20',
    description: 'plain Apollo Gateway as `apollo`, run by Node 20 (BENCH_NODE20) instead of Node 24: the runtime comparison',
    prepare: async ({ liftedSupergraphPath, port }) => ({
      spawn: tsxNode('test/bench/gateway/apolloGateway.ts', [liftedSupergraphPath, String(port)], {}, NODE20),
      urlFor: gatewayUrl(port),
    }),
  },
  {
    name: 'trellis-node20',
    description: 'Trellis as `trellis`, run by Node 20 (BENCH_NODE20) instead of Node 24: the runtime comparison',
    prepare: async ({ supergraphPath, authIssuer, port }) => ({
      spawn: tsxNode('gateway/main.ts', ['--supergraph', supergraphPath], { PORT: String(port), HOST: '127.0.0.1', AUTH_ISSUER: authIssuer, ...OLD_NODE }, NODE20),
      urlFor: gatewayUrl(port),
    }),
  },
];
