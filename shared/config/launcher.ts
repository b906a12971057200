/** `npm start`'s own variables: where its block of ports starts, and how many replicas of each service it runs. */
import { z } from 'zod';

/** The variables, merged into the config schema (index.ts). */
export const launcherEnvShape = {
  /** The gateway's port; every other service sits at a fixed offset from it (scripts/launcher/services.ts). */
  TRELLIS_PORT_BASE: z.coerce.number().int().min(1024, 'a port from 1024').max(64000, 'a port up to 64000, so every offset fits').default(4000),
  /** Replicas of every service; replica k listens on the first one's ports plus 10000·k (scripts/launcher/replicas.ts). */
  TRELLIS_REPLICAS: z.coerce.number().int().min(1).default(1),
};

export interface LauncherSettings {
  portBase: number;
  replicas: number;
}

export function launcherSettings(env: { [K in keyof typeof launcherEnvShape]: number }): LauncherSettings {
  return { portBase: env.TRELLIS_PORT_BASE, replicas: env.TRELLIS_REPLICAS };
}
