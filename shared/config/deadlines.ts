/**
 * How long Trellis waits for work that could otherwise hang for ever: a supergraph composition,
 * and a graphql-ws peer (gateway to subgraph, BFF to gateway) that stopped answering.
 */
import { z } from 'zod';

/** The variables, merged into the config schema (index.ts). */
export const deadlineEnvShape = {
  /** A composition still running after this is killed (its worker thread terminated) and counted as failed. */
  COMPOSITION_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** Upstream graphql-ws clients ping their peer this long after the last pong. */
  UPSTREAM_WS_PING_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** A peer that does not answer a ping, an upgrade or connection_init within this is dead: its socket is terminated. */
  UPSTREAM_WS_PONG_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
};

export interface Deadlines {
  compositionTimeoutMs: number;
  /** Keep-alive of every upstream graphql-ws client (shared/resilience/wsKeepAlive.ts). */
  upstreamWs: { pingIntervalMs: number; pongTimeoutMs: number };
}

export function deadlines(env: { [K in keyof typeof deadlineEnvShape]: number }): Deadlines {
  return {
    compositionTimeoutMs: env.COMPOSITION_TIMEOUT_MS,
    upstreamWs: { pingIntervalMs: env.UPSTREAM_WS_PING_INTERVAL_MS, pongTimeoutMs: env.UPSTREAM_WS_PONG_TIMEOUT_MS },
  };
}
