/**
 * The platformatic Kafka bus closes clean: in a process of its own, with one subscription stopped
 * and another in a retry backoff when the bus closes, the process exits by itself (no timer or
 * socket left behind) and writes nothing on stderr (no unhandled rejection, no warning).
 */
import { runNodeScript } from '../../support/nodeScript';
import { realBackends, uniquePrefix } from '../../support/backends';


it('exits by itself after close, with a retry pending, and prints nothing on stderr', async () => {
  const script = `
    const { createKafkaEventBus } = require('./shared/events');
    const { BackendUnavailableError } = require('./shared/errors');
    (async () => {
      const bus = createKafkaEventBus({ client: 'platformatic', brokers: ${JSON.stringify(realBackends.kafkaBrokers)}, clientId: 'lifecycle' });
      const topic = ${JSON.stringify(uniquePrefix('lifecycle'))};
      await bus.ensureTopics([topic]);
      let received = 0;
      let failed = 0;
      const stopped = await bus.subscribe({ groupId: topic + '-a', topics: [topic], fromBeginning: true, handler: async () => void received++ });
      await bus.subscribe({
        groupId: topic + '-b', topics: [topic], fromBeginning: true, backoff: { initialDelayMs: 600000, maxDelayMs: 600000 },
        handler: async () => { failed++; throw new BackendUnavailableError('redis', 'down'); },
      });
      await bus.publish(topic, Array.from({ length: 20 }, (_, i) => ({ key: 'k' + (i % 4), value: String(i) })));
      while (received < 20 || failed < 1) await new Promise((resolve) => setTimeout(resolve, 50));
      await stopped.stop();
      await bus.close();
      console.log('consumed ' + received);
    })().catch((error) => { console.error(error); process.exit(1); });`;
  const { code, stdout, stderr } = await runNodeScript(script);
  expect({ code, stdout: stdout.trim(), stderr }).toEqual({ code: 0, stdout: 'consumed 20', stderr: '' });
}, 90_000);
