/**
 * Entry point of the gateway process (`node --import tsx gateway/main.ts`, or the launcher).
 * `--supergraph <file>` (or SUPERGRAPH_PATH) serves a fixed supergraph file instead of discovery.
 */
import { runMain } from '@trellis/kit';
import { connectBackends } from '@trellis/kit';
import { assembleGateway } from './assemble';
import { gatewayProfile } from './processProfile';

function supergraphFlag(argv: string[]): string | undefined {
  const index = argv.findIndex((arg) => arg === '--supergraph' || arg.startsWith('--supergraph='));
  if (index < 0) return undefined;
  const value = argv[index].includes('=') ? argv[index].split('=').slice(1).join('=') : argv[index + 1];
  if (!value) throw new Error('--supergraph needs a file path');
  return value;
}

// Read inside runMain (its profile, then start), so a bad flag is one line on stderr and a non-zero exit.
const supergraphPath = () => supergraphFlag(process.argv.slice(2));

runMain(
  'gateway',
  async ({ config, logger }) => {
    const backends = await connectBackends(config, logger, { uses: [...gatewayProfile(config, supergraphPath()).backends] });
    const server = await assembleGateway({ config, logger, backends, supergraphPath: supergraphPath() });
    await server.start();
    return async () => {
      await server.stop();
      await backends.close();
    };
  },
  (config) => gatewayProfile(config, supergraphPath()),
);
