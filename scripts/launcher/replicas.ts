/**
 * `TRELLIS_REPLICAS=N npm start`: N replicas of every service, replica k (0 is the first) on the
 * first replica's ports plus 10000·k, so a script finds gateway 2 at 14000 and its admin at 14700.
 * The dev hub and the dev identity provider stay one each: every replica shares them.
 */
import { ConfigError } from '@trellis/kit';
import type { ServiceSpec } from './services';

export const REPLICA_PORT_STEP = 10_000;
const HIGHEST_PORT = 65_535;

/** The ports of one replica's services and of its gateway's admin listener. */
export interface ReplicaPorts {
  /** 0 for the first replica. */
  index: number;
  port(spec: Pick<ServiceSpec, 'portOffset'>): number;
  adminPort: number;
  gatewayUrl: string;
}

export interface ReplicaLayout {
  portBase: number;
  replicas: number;
  /** The first replica's admin port (ADMIN_PORT, else base+700); 0: a free one for each. */
  adminPort: number;
}

/**
 * Every replica's ports; refuses, naming TRELLIS_REPLICAS, a count whose last replica would listen
 * past 65535 (the highest of the first replica's ports plus 10000·(N−1)).
 */
export function replicaPorts({ portBase, replicas, adminPort }: ReplicaLayout, services: ReadonlyArray<Pick<ServiceSpec, 'portOffset'>>): ReplicaPorts[] {
  const highest = Math.max(adminPort, ...services.map((spec) => portBase + spec.portOffset));
  const fits = Math.floor((HIGHEST_PORT - highest) / REPLICA_PORT_STEP) + 1;
  if (replicas > fits) {
    const last = highest + REPLICA_PORT_STEP * (replicas - 1);
    throw new ConfigError(
      `Invalid configuration: TRELLIS_REPLICAS=${replicas}: replica ${replicas} would listen on port ${last} (the first replica's highest port ${highest} + ${REPLICA_PORT_STEP}·${replicas - 1}), past ${HIGHEST_PORT}; at most ${fits} with these ports (TRELLIS_PORT_BASE, ADMIN_PORT)`,
    );
  }
  return Array.from({ length: replicas }, (_, index) => {
    const shift = REPLICA_PORT_STEP * index;
    return {
      index,
      port: (spec) => portBase + spec.portOffset + shift,
      // ADMIN_PORT=0 asks each gateway for a free port, so every replica's stays 0.
      adminPort: adminPort === 0 ? 0 : adminPort + shift,
      gatewayUrl: `http://127.0.0.1:${portBase + shift}/graphql`,
    };
  });
}
