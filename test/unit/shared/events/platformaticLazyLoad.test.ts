/**
 * `@platformatic/kafka` loads only in a process that chooses it (KAFKA_CLIENT=platformatic): it
 * takes about a second to load, which every process on the default client would pay at start-up.
 * Checked in a fresh process, where the module cache shows what was loaded.
 */
import { runNodeScript } from '../../../support/nodeScript';


it('loads @platformatic/kafka only when the platformatic client is chosen', async () => {
  const script = `
    const loaded = () => Object.keys(require.cache).some((file) => file.includes('@platformatic/kafka'));
    const { createKafkaEventBus } = require('./shared/events');
    const seen = [];
    (async () => {
      const kafkajs = createKafkaEventBus({ client: 'kafkajs', brokers: ['127.0.0.1:1'], clientId: 'lazy' });
      seen.push('kafkajs:' + loaded());
      await kafkajs.close();
      const platformatic = createKafkaEventBus({ client: 'platformatic', brokers: ['127.0.0.1:1'], clientId: 'lazy' });
      seen.push('platformatic:' + loaded());
      await platformatic.close();
      console.log(seen.join(' '));
    })().catch((error) => { console.error(error); process.exit(1); });`;
  const { code, stdout, stderr } = await runNodeScript(script);
  expect({ code, stdout: stdout.trim(), stderr }).toEqual({ code: 0, stdout: 'kafkajs:false platformatic:true', stderr: '' });
}, 60_000);
