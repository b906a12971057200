/** A real pino logger whose lines are kept in memory, so a test can assert what was logged. */
import { createLogger, type Logger } from '@trellis/kit';

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger({ service: 'test', level: 'debug', destination: { write: (line: string) => lines.push(JSON.parse(line) as LogLine) } });
  return { logger, lines };
}
