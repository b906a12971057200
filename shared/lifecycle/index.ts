/**
 * Runs one Trellis process: loads config (environment over trellis.config), makes the logger, starts
 * tracing (when OTEL_* configure it), starts the service, and stops it cleanly on SIGINT/SIGTERM,
 * flushing spans and logging `stopped`. A bad config or a failed
 * start exits non-zero with a clear line; `--print-config` prints the effective config and exits.
 */
import { formatConfig, loadProcessConfig, type Config } from '../config';
import { createLogger, type Logger } from '../logging';
import { ConfigError, errorMessage } from '../errors';
import { startTelemetry } from '../telemetry';

export type Stop = () => Promise<void>;

export interface MainContext {
  config: Config;
  logger: Logger;
}

export function runMain(service: string, start: (context: MainContext) => Promise<Stop>): void {
  let config: Config;
  try {
    config = loadProcessConfig();
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
      process.exit(1);
    },
  );
}
