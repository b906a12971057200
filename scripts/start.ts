/**
 * `npm start`: the whole platform on one machine. Hosts the embedded backends (dev hub) unless
 * real ones are configured, starts every subgraph, the gateway and the BFFs as separate processes
 * (TRELLIS_REPLICAS of each), prints their URLs, and stops everything on Ctrl-C or when one cannot start.
 */
import { assertSafeForProduction, formatConfig, loadProcessConfig } from '@trellis/kit/internal';
import { createLogger } from '@trellis/kit';
import { DevHubServer } from '@trellis/kit/internal';
import { InMemoryDiscovery } from '@trellis/kit/internal';
import { InMemoryStateStore } from '@trellis/kit/internal';
import { InMemoryEventBus } from '@trellis/kit/internal';
import { DevIdentityProvider } from '@trellis/kit/internal';
import { EDGE, GATEWAY, IDENTITY_PORT_OFFSET, SUBGRAPHS, type ServiceSpec } from './launcher/services';
import { Supervisor } from './launcher/supervisor';
import { entryRuntime } from './launcher/runtime';
import { replicaPorts, REPLICA_PORT_STEP, type ReplicaPorts } from './launcher/replicas';
import type { RunningService } from './launcher/supervisor';

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
  const { portBase: base, replicas: replicaCount } = config.launcher;
  // The gateway's admin listener (/metrics, /admin/*) on base+700, loopback; replica k's 10000·k higher.
  const replicas = replicaPorts({ portBase: base, replicas: replicaCount, adminPort: config.admin.port ?? base + 700 }, [...SUBGRAPHS, GATEWAY, ...EDGE]);
  // From source the children run through tsx; compiled (dist/scripts/start.js), as plain JavaScript.
  const runtime = entryRuntime(__filename, 1);
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Each replica's BFFs (and the sagas subgraph's catalog lookups) call that replica's gateway.
  const replicaEnv = (replica: ReplicaPorts): NodeJS.ProcessEnv => ({ GATEWAY_URL: replica.gatewayUrl, ADMIN_PORT: String(replica.adminPort) });
  const label = (name: string, replica: ReplicaPorts) => (replica.index === 0 ? name : `${name}#${replica.index + 1}`);

  const { backends } = config;
  // The state store is real on any Redis topology (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES).
  const needsHub = !backends.consulUrl || !config.redis.topology || backends.kafkaBrokers.length === 0;
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
    // The console's token for the sagas subgraph's operator overview; the dev keys die with this process.
    env.CONSOLE_OPERATOR_TOKEN ??= await idp.mint('console', ['trellis:operator'], 30 * 24 * 3600);
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
  supervisor.onUnexpectedExit = (service, code) => logger.error({ service: service.label, code }, `${service.label} exited`);
  // The gateways once every subgraph serves, the BFFs once the gateways do. Within a stage one replica
  // after the other: N replicas starting at once would each start N times slower than one does.
  const startStage = async (specs: ServiceSpec[]): Promise<RunningService[]> => {
    const started: RunningService[] = [];
    for (const replica of replicas) {
      const batch = specs.map((spec) => supervisor.start(spec, replica.port(spec), replicaEnv(replica), label(spec.name, replica)));
      started.push(...batch);
      await Promise.all(batch.map((service) => supervisor.waitReady(service, 60_000)));
    }
    return started;
  };

  try {
    const subgraphs = await startStage(SUBGRAPHS);
    const gateways = await startStage([GATEWAY]);
    const edge = await startStage(EDGE);

    const adminOf = (port: number) => (port === 0 ? 'admin on a free port (ADMIN_PORT=0)' : `admin http://127.0.0.1:${port}/admin/`);
    const lines = [...subgraphs, ...gateways, ...edge].map((s) => {
      const admin = s.spec === GATEWAY ? `, ${adminOf(replicas[gateways.indexOf(s)].adminPort)}` : '';
      return `  ${s.label.padEnd(12)} ${s.spec.describe(s.url)}${admin}`;
    });
    process.stdout.write(
      [
        '',
        'Trellis is up.',
        ...(replicas.length > 1 ? [`  ${replicas.length} replicas of each service: replica k on the first one's ports + ${REPLICA_PORT_STEP}·(k−1), sharing the backends below`] : []),
        ...lines,
        hub ? `  ${'backends'.padEnd(12)} embedded (dev hub ${env.TRELLIS_DEVHUB_URL})` : `  ${'backends'.padEnd(12)} Consul, Redis, Kafka`,
        idp ? `  ${'identity'.padEnd(12)} ${env.AUTH_ISSUER} (dev tokens)` : `  ${'identity'.padEnd(12)} ${env.AUTH_ISSUER}`,
        '',
        `Console (supergraph, instances, breakers, sagas, traffic): http://127.0.0.1:${replicas[0].adminPort}/admin/`,
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
