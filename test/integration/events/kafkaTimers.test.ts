/**
 * kafkajs 2.2.4's request queue schedules its throttle check at `throttledUntil - Date.now()`,
 * with `throttledUntil` at -1 when nothing throttles: a timer of minus the epoch, which Node 24
 * turns into 1 ms and reports as a TimeoutNegativeWarning on stderr, again and again, in every
 * process on Kafka. patches/kafkajs+2.2.4.patch clamps it; this pins the patch on the real broker,
 * in a process of its own, since Node reports the warning on the real process's stderr.
 */
import { runNodeScript } from '../../support/nodeScript';
import { realBackends, uniquePrefix } from '../../support/backends';


it('publishes and consumes on the real broker without a negative timer', async () => {
  const script = `
    const { KafkaEventBus } = require('./shared/events');
    (async () => {
      const bus = new KafkaEventBus({ brokers: ${JSON.stringify(realBackends.kafkaBrokers)}, clientId: 'timers' });
      const topic = ${JSON.stringify(uniquePrefix('timers'))};
      await bus.ensureTopics([topic]);
      let received = 0;
      await bus.subscribe({ groupId: topic, topics: [topic], fromBeginning: true, handler: async () => void received++ });
      await bus.publish(topic, Array.from({ length: 20 }, (_, i) => ({ key: 'k' + (i % 4), value: String(i) })));
      while (received < 20) await new Promise((resolve) => setTimeout(resolve, 50));
      await bus.close();
      console.log('consumed ' + received);
    })().catch((error) => { console.error(error); process.exit(1); });`;
  const { code, stdout, stderr } = await runNodeScript(script, { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' });
  expect({ code, stdout: stdout.trim() }).toEqual({ code: 0, stdout: 'consumed 20' });
  expect(stderr).not.toContain('TimeoutNegativeWarning');
});
