/** A running-subgraph harness: a subgraph built by its factory on the backends `env` names, as its own `main.ts` would start it. */
import { loadConfig, type Env } from '../config';
import { createLogger } from '../logging';
import { launchSubgraph, type Subgraph, type SubgraphFactory } from '../subgraph';

/** Quiet unless `LOG_LEVEL` says otherwise; a short grace so a test's stop is quick. */
const TEST_DEFAULTS = { LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: '2000' };

/** `env` as the process environment would be (e.g. `{ PORT: '0' }`); `stop()` also closes the backends it connected. */
export async function startTestSubgraph(build: SubgraphFactory, env: Env = {}): Promise<Subgraph & { stop(): Promise<void> }> {
  const config = loadConfig({ ...TEST_DEFAULTS, ...env });
  const { subgraph, stop } = await launchSubgraph(build, config, createLogger({ service: 'subgraph', level: config.logLevel }));
  return Object.assign(subgraph, { stop });
}
