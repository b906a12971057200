/** In-process gateway and subgraphs on given backends, for integration and chaos tests. */
import { loadConfig, type Env } from '@trellis/kit/internal/config';
import { createLogger } from '@trellis/kit';
import { connectBackends, type Backends } from '@trellis/kit';
import type { Subgraph, SubgraphFactory } from '@trellis/kit';
import { startTestSubgraph } from '@trellis/kit/testing';
import { assembleGateway, type AssembledGateway, type AssembleOptions } from '../../gateway/assemble';

export interface InProcessGateway {
  url: string;
  server: AssembledGateway;
  backends: Backends;
  stop(): Promise<void>;
}

const quiet = { LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', SHUTDOWN_GRACE_MS: '2000' };

/**
 * `overrides` replaces connected ports (e.g. a Redis state store or cache with a test's own key prefix; the
 * test closes it); `assemble` passes options to assembleGateway (e.g. a token verifier that counts).
 */
export async function startGateway(env: Env, overrides: Partial<Pick<Backends, 'state' | 'cache'>> = {}, assemble: Pick<AssembleOptions, 'verifier'> = {}): Promise<InProcessGateway> {
  const config = loadConfig({ ...quiet, ...env });
  const logger = createLogger({ service: 'gateway', level: config.logLevel });
  const backends = { ...(await connectBackends(config, logger)), ...overrides };
  const server = await assembleGateway({ config, logger, backends, ...assemble });
  const url = await server.start(0);
  return {
    url,
    server,
    backends,
    stop: async () => {
      await server.stop();
      await backends.close();
    },
  };
}

/** A subgraph built by its factory on the backends `env` names, as its own `main.ts` would (the kit's harness, quiet unless TEST_LOG_LEVEL). */
export async function startSubgraph(build: SubgraphFactory, env: Env): Promise<Subgraph> {
  return startTestSubgraph(build, { ...quiet, ...env });
}
