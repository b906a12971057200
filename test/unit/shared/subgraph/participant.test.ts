/**
 * `participant: { name, handlers }` on the in-memory backends: the kit consumes that participant's
 * saga commands while the subgraph runs, replies to each on `saga.replies`, and consumes nothing once
 * stopped (the next instance of the group gets what came after), and refuses a command past its
 * deadline by more than SAGA_DEADLINE_SKEW_MS.
 */
import { loadConfig } from '@trellis/kit/internal/config';
import { connectBackends, type Backends } from '@trellis/kit/internal/backends';
import { createSubgraph } from '@trellis/kit/internal/subgraph/createSubgraph';
import { SAGA_TOPICS, type SagaCommand, type SagaHandler, type SagaReply } from '@trellis/kit/internal/saga';
import { recordingLogger } from '../../../support/recordingLogger';
import { eventually } from '../../../support/graphql';

const config = loadConfig({ LOG_LEVEL: 'silent' });
const typeDefs = 'type Query { balance: Int }';
const command = (sagaId: string): SagaCommand => ({ sagaId, saga: 'demo', step: 'charge', stepIndex: 0, action: 'command', name: 'charge', attempt: 1, payload: { amount: 5 } });

describe('createSubgraph({ participant }) on the in-memory backends', () => {
  let backends: Backends;
  const replies: SagaReply[] = [];
  beforeEach(async () => {
    backends = await connectBackends(config, recordingLogger().logger);
    replies.length = 0;
    await backends.events.subscribe({ groupId: 'replies', topics: [SAGA_TOPICS.replies], fromBeginning: true, handler: async (m) => void replies.push(JSON.parse(m.value) as SagaReply) });
  });
  afterEach(() => backends.close());

  const instance = (label: string, applied: string[], settings = config) => {
    const charge: SagaHandler = async (payload, { command }) => (applied.push(`${label}:${command.sagaId}:${(payload as { amount: number }).amount}`), { result: { by: label } });
    return createSubgraph({ name: 'ledger', typeDefs, resolvers: { Query: { balance: () => 0 } }, config: settings, logger: recordingLogger().logger, backends, participant: { name: 'ledger', handlers: { charge } } });
  };

  it('refuses as expired a command past its deadline by more than SAGA_DEADLINE_SKEW_MS (1 s by default), and applies it within the skew', async () => {
    const applied: string[] = [];
    const late = (sagaId: string) => JSON.stringify({ ...command(sagaId), deadline: Date.now() - 30_000 });
    const strict = instance('strict', applied);
    await strict.start();
    await backends.events.publish(SAGA_TOPICS.commands('ledger'), { key: 's1', value: late('s1') });
    await eventually(async () => expect(replies).toEqual([expect.objectContaining({ sagaId: 's1', outcome: 'failure', expired: true })]));
    await strict.stop();

    const lenient = instance('lenient', applied, loadConfig({ LOG_LEVEL: 'silent', SAGA_DEADLINE_SKEW_MS: '60000' }));
    await lenient.start();
    try {
      await backends.events.publish(SAGA_TOPICS.commands('ledger'), { key: 's2', value: late('s2') });
      await eventually(async () => expect(replies[1]).toEqual(expect.objectContaining({ sagaId: 's2', outcome: 'success', result: { by: 'lenient' } })));
      expect(applied).toEqual(['lenient:s2:5']);
    } finally {
      await lenient.stop();
    }
  });

  it('consumes its commands from start to stop and replies to each; once stopped, the next instance gets the rest', async () => {
    const applied: string[] = [];
    const first = instance('first', applied);
    await first.start();
    await backends.events.publish(SAGA_TOPICS.commands('ledger'), { key: 's1', value: JSON.stringify(command('s1')) });
    await eventually(async () => expect(replies).toEqual([expect.objectContaining({ sagaId: 's1', outcome: 'success', result: { by: 'first' } })]));
    await first.stop();

    await backends.events.publish(SAGA_TOPICS.commands('ledger'), { key: 's2', value: JSON.stringify(command('s2')) });
    const second = instance('second', applied);
    await second.start();
    try {
      await eventually(async () => expect(replies.map((reply) => reply.sagaId)).toEqual(['s1', 's2']));
      expect(replies[1]).toEqual(expect.objectContaining({ sagaId: 's2', outcome: 'success', result: { by: 'second' } }));
      // The stopped instance applied only what came before its stop; the second, only what came after.
      expect(applied).toEqual(['first:s1:5', 'second:s2:5']);
    } finally {
      await second.stop();
    }
  });
});
