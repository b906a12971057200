/**
 * One entry for every Trellis service, so one image runs any of them:
 * `node dist/scripts/service.js gateway` (or TRELLIS_SERVICE=gateway). Loads the service's own entry
 * in this process, so signals and exit codes are the service's.
 */
import { entryRuntime } from './launcher/runtime';
import { SERVICES } from './launcher/services';

const name = process.argv[2] ?? process.env.TRELLIS_SERVICE;
const spec = SERVICES.find((service) => service.name === name);
if (!spec) {
  process.stderr.write(`trellis: ${name ? `unknown service "${name}"` : 'no service named'}; pass one of ${SERVICES.map((s) => s.name).join(', ')} (argument or TRELLIS_SERVICE)\n`);
  process.exit(2);
}
const runtime = entryRuntime(__filename, 1);
// eslint-disable-next-line @typescript-eslint/no-require-imports
require(`${runtime.root}/${spec.entry}${runtime.compiled ? '.js' : '.ts'}`);
