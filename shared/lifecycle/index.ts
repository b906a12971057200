/**
 * Runs one Trellis process: loads config (environment over trellis.config), makes the logger, starts
 * tracing (when OTEL_* configure it), starts the service, and stops it cleanly on SIGINT/SIGTERM,
 * flushing spans and logging `stopped`. A bad config or a failed
 * start exits non-zero with a clear line; `--print-config` prints the effective config and exits.
 * With NODE_ENV=production, a process that would run unsafe (embedded backends, Consul with no
 * allow-list or token, an open admin listener, the dev identity provider) does not start.
 */
import { assertSafeForProduction, formatConfig, loadProcessConfig, type Config, type ProcessProfile } from '../config';
import { createLogger, type Logger } from '../logging';
import { ConfigError, errorMessage } from '../errors';
import { startTelemetry } from '../telemetry';

export type Stop = () => Promise<void>;

export interface MainContext {
  config: Config;
  logger: Logger;
}

/** A process that says nothing else connects every backend (what `connectBackends` does by default). */
const EVERY_BACKEND: ProcessProfile = { backends: ['discovery', 'state', 'events'] };

/**
 * `profile` says what the process runs (its backends, whether it composes, an admin listener, the
 * dev identity provider), from its config, so the production checks ask only what concerns it.
 */
export function runMain(service: string, start: (context: MainContext) => Promise<Stop>, profile: (config: Config) => ProcessProfile = () => EVERY_BACKEND): void {
  let config: Config;
  try {
    config = loadProcessConfig();
    if (!process.argv.includes('--print-config')) assertSafeForProduction(config, profile(config));
  } catch (error) {
    process.stderr.write(`${service}: ${errorMessage(error)}\n`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  }
  if (process.argv.includes('--print-config')) {
    process.stdout.write(formatConfig(config));
    process.exit(0);
  }
  const logger = createLogger({ service: config.serviceName ?? service, level: config.logLevel });
  const telemetry = startTelemetry(config.telemetry, { serviceName: config.serviceName ?? service });
  if (telemetry.enabled) logger.info({ traces: config.telemetry?.tracesUrl, sampler: config.telemetry?.sampler }, 'tracing on');
  let stop: Stop | undefined;
  let stopping = false;

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const deadline = setTimeout(() => {
      logger.error('stop took too long; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 5000);
    deadline.unref();
    try {
      await stop?.();
      await telemetry.stop().catch((error: unknown) => logger.warn({ err: error }, 'could not flush spans'));
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'stop failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));

  start({ config, logger }).then(
    (stopService) => {
      stop = stopService;
      if (stopping) void stopService();
    },
    (error) => {
      logger.fatal({ err: error }, `${service} failed to start: ${errorMessage(error)}`);
      // A refusal found only once a backend answers (an evicting state store) exits as the others do.
      process.exit(error instanceof ConfigError ? 2 : 1);
    },
  );
}
