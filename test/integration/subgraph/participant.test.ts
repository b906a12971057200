/**
 * A subgraph takes part in sagas with one option, `participant: { name, handlers }`: the kit
 * consumes that participant's saga commands from start to stop, replies on `saga.replies`, and a
 * stopped subgraph consumes nothing more (the next instance of the group gets what came after).
 */
import { loadConfig } from '../../../shared/config';
import { createLogger } from '../../../shared/logging';
import { connectBackends, type Backends } from '../../../shared/backends';
import { createSubgraph } from '../../../shared/subgraph';
import { SAGA_TOPICS, type SagaCommand, type SagaHandler, type SagaReply } from '../../../shared/saga';
import { eventually } from '../../support/graphql';

const config = loadConfig({ LOG_LEVEL: 'silent' });
const logger = createLogger({ service: 'test', level: 'silent' });
const typeDefs = 'type Query { balance: Int }';

const command = (sagaId: string): SagaCommand => ({ sagaId, saga: 'demo', step: 'charge', stepIndex: 0, action: 'command', name: 'charge', attempt: 1, payload: { amount: 5 } });

describe('createSubgraph({ participant })', () => {
  let backends: Backends;
  const replies: SagaReply[] = [];

  beforeEach(async () => {
    backends = await connectBackends(config, logger);
    replies.length = 0;
    await backends.events.subscribe({ groupId: 'replies', topics: [SAGA_TOPICS.replies], fromBeginning: true, handler: async (m) => void replies.push(JSON.parse(m.value) as SagaReply) });
  });
  afterEach(() => backends.close());

  /** A subgraph instance whose `charge` handler records which instance applied which saga. */
  const instance = (label: string, applied: string[]) => {
    const charge: SagaHandler = async (_payload, { command }) => (applied.push(`${label}:${command.sagaId}`), { result: { by: label } });
    return createSubgraph({ name: 'ledger', typeDefs, resolvers: { Query: { balance: () => 0 } }, config, logger, backends, port: 0, participant: { name: 'ledger', handlers: { charge } } });
  };

  it('consumes its commands from start to stop and replies to each; after stop the next instance gets the rest', async () => {
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
      // The stopped instance applied only what came before its stop; the second, only what came after.
      expect(applied).toEqual(['first:s1', 'second:s2']);
    } finally {
      await second.stop();
    }
  });
});
