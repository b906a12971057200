/**
 * `npm start`: the whole platform on one machine. Hosts the embedded backends (dev hub) unless
 * real ones are configured, starts every subgraph and the gateway as separate processes,
 * prints their URLs, and stops everything on Ctrl-C or when one cannot start.
 */
import { assertSafeForProduction, formatConfig, loadProcessConfig } from '@trellis/kit/internal';
import { createLogger } from '@trellis/kit';
import { DevHubServer } from '@trellis/kit/internal';
import { InMemoryDiscovery } from '@trellis/kit/internal';
import { InMemoryStateStore } from '@trellis/kit/internal';
import { InMemoryEventBus } from '@trellis/kit/internal';
import { DevIdentityProvider } from '@trellis/kit/internal';
import { EDGE, GATEWAY, IDENTITY_PORT_OFFSET, SUBGRAPHS } from './launcher/services';
import { Supervisor } from './launcher/supervisor';
import { entryRuntime } from './launcher/runtime';

async function main(): Promise<void> {
  const config = loadProcessConfig();
  if (process.argv.includes('--print-config')) {
    process.stdout.write(formatConfig(config));
    return;
  }
  // Everything the launcher runs, refused here at once rather than by each child in turn: the dev
  // hub stands in for unset backends, and without AUTH_ISSUER the dev identity provider signs tokens.
  assertSafeForProduction(config, { backends: ['discovery', 'state', 'events'], composes: true, admin: true, devIdentity: !config.auth });
  const logger = createLogger({ service: 'launcher', level: config.logLevel });
  const base = Number(process.env.TRELLIS_PORT_BASE ?? 4000);
  if (!Number.isInteger(base) || base < 1024 || base > 64000) throw new Error(`TRELLIS_PORT_BASE=${process.env.TRELLIS_PORT_BASE}: must be an integer port between 1024 and 64000`);
  // From source the children run through tsx; compiled (dist/scripts/start.js), as plain JavaScript.
  const runtime = entryRuntime(__filename, 1);
  // The gateway's admin listener (/metrics, /admin/*) on base+700, loopback.
  const env: NodeJS.ProcessEnv = { ...process.env, GATEWAY_URL: `http://127.0.0.1:${base}/graphql`, ADMIN_PORT: process.env.ADMIN_PORT ?? String(base + 700) };

  const { backends } = config;
  const needsHub = !backends.consulUrl || !backends.redisUrl || backends.kafkaBrokers.length === 0;
  let hub: DevHubServer | undefined;
  if (needsHub) {
    hub = new DevHubServer({
      targets: {
        discovery: new InMemoryDiscovery({ healthIntervalMs: 1000, logger }),
        state: new InMemoryStateStore(),
        events: new InMemoryEventBus({ logger }),
      },
      port: base + 600,
      logger,
    });
    env.TRELLIS_DEVHUB_URL = await hub.start();
  }

  // Tokens for the embedded platform; a configured AUTH_ISSUER means a real provider signs them.
  let idp: DevIdentityProvider | undefined;
  if (!config.auth) {
    const issuer = `http://127.0.0.1:${base + IDENTITY_PORT_OFFSET}`;
    idp = new DevIdentityProvider({ issuer, audience: process.env.AUTH_AUDIENCE ?? 'trellis', logger });
    await idp.start(base + IDENTITY_PORT_OFFSET);
    env.AUTH_ISSUER = issuer;
  }

  const supervisor = new Supervisor(runtime, env, process.env.LOG_FORMAT === 'json');
  let shuttingDown = false;
  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    process.stdout.write('\nStopping Trellis...\n');
    await supervisor.stopAll(config.shutdownGraceMs);
    await hub?.stop();
    await idp?.stop();
    logger.info('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  supervisor.onUnexpectedExit = (service, code) => logger.error({ service: service.spec.name, code }, `${service.spec.name} exited`);

  try {
    const subgraphs = SUBGRAPHS.map((spec) => supervisor.start(spec, base + spec.portOffset));
    await Promise.all(subgraphs.map((service) => supervisor.waitReady(service, 60_000)));
    const gateway = supervisor.start(GATEWAY, base + GATEWAY.portOffset);
    await supervisor.waitReady(gateway, 60_000);
    const edge = EDGE.map((spec) => supervisor.start(spec, base + spec.portOffset));
    await Promise.all(edge.map((service) => supervisor.waitReady(service, 60_000)));

    const lines = [...subgraphs, gateway, ...edge].map((s) => `  ${s.spec.name.padEnd(10)} ${s.spec.describe(s.url)}`);
    process.stdout.write(
      [
        '',
        'Trellis is up.',
        ...lines,
        hub ? `  backends   embedded (dev hub ${env.TRELLIS_DEVHUB_URL})` : '  backends   Consul, Redis, Kafka',
        idp ? `  identity   ${env.AUTH_ISSUER} (dev tokens)` : `  identity   ${env.AUTH_ISSUER}`,
        '',
        `Console (supergraph, instances, breakers, sagas, traffic): http://127.0.0.1:${env.ADMIN_PORT}/admin/`,
        ...(config.isProduction ? [] : [`GraphiQL (queries, mutations, subscriptions): http://127.0.0.1:${base}/graphql`]),
        '',
        ...(idp
          ? [
              'Get a token (the dev identity provider signs any subject and scopes):',
              `  TOKEN=$(curl -s ${env.AUTH_ISSUER}/token -H 'content-type: application/json' \\`,
              `          -d '{"sub":"u1","scopes":["users:email","payments:read"]}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
            ]
          : ['Send a token from your issuer as "authorization: Bearer <JWT>" (TOKEN below).']),
        'Then query across four subgraphs:',
        `  curl -s http://127.0.0.1:${base}/graphql -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
        `       -d '{"query":"{ me { name email } user(id: \\"u1\\") { orders { total status items { quantity product { name inStock } } payment { state } } } }"}'`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  } catch (error) {
    logger.fatal({ err: error }, `start failed: ${(error as Error).message}`);
    await shutdown(1);
  }
}

main().catch((error) => {
  process.stderr.write(`trellis: ${(error as Error).message}\n`);
  process.exit(1);
});
