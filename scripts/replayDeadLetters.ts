/**
 * `npm run saga:replay-dlq [topic ...]`: puts the dead letters of the saga topics (or of the
 * topics named) back on their source topics, once their cause is fixed, and prints how many.
 * Uses the same backends as the platform (KAFKA_BROKERS, or the dev hub of a running `npm start`).
 */
import { loadConfig } from '@trellis/kit';
import { createLogger } from '@trellis/kit';
import { connectBackends } from '@trellis/kit';
import { replayDeadLetters } from '@trellis/kit/internal';
import { SAGA_TOPICS } from '@trellis/kit/saga';
import { placeOrderSaga } from '../subgraphs/sagas/placeOrderSaga';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ service: 'dlq-replay', level: config.logLevel });
  const participants = [...new Set(placeOrderSaga().steps.map((step) => step.participant))];
  const topics = process.argv.length > 2 ? process.argv.slice(2) : [SAGA_TOPICS.replies, ...participants.map(SAGA_TOPICS.commands)];
  const backends = await connectBackends(config, logger, { uses: ['events'] });
  try {
    const replayed = await replayDeadLetters(backends.events, topics, { logger });
    for (const [topic, count] of Object.entries(replayed)) process.stdout.write(`${topic}: ${count} replayed\n`);
  } finally {
    await backends.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`dlq-replay: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
