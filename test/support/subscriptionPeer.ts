/**
 * A kit subgraph in its own process, for tests that freeze the peer of a graphql-ws client
 * (SIGSTOP): `ticks` sends "<PEER_NAME> <n>" every 100 ms for ever, and `sagaStatus(id)` a RUNNING
 * state (the shape the BFFs read from the gateway) every 100 ms, its one step's `attempts` counting. Prints `peer <url>`
 * once it serves. Spawned by test/support/peerProcess.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '@trellis/kit';
import { createLogger } from '@trellis/kit';
import { launchSubgraph } from '@trellis/kit/internal/subgraph';
import { FEDERATION_LINK } from '../../subgraphs/federation';

const name = process.env.PEER_NAME ?? 'peer';
const typeDefs = `
  ${FEDERATION_LINK}
  type Query { peer: String }
  type Subscription {
    ticks: String!
    sagaStatus(id: ID!): SagaProgress!
  }
  type SagaProgress { id: ID! state: String! steps: [SagaStep!]! order: SagaOrder }
  type SagaStep { name: String! state: String! attempts: Int! error: String }
  type SagaOrder { id: ID! status: String! total: Float! }
`;

const resolvers = {
  Query: { peer: () => name },
  Subscription: {
    ticks: {
      subscribe: async function* () {
        for (let n = 1; ; n++) {
          yield { ticks: `${name} ${n}` };
          await sleep(100);
        }
      },
    },
    sagaStatus: {
      subscribe: async function* (_: unknown, { id }: { id: string }) {
        for (let attempts = 1; ; attempts++) {
          yield { sagaStatus: { id, state: 'RUNNING', steps: [{ name: 'tick', state: 'RUNNING', attempts, error: null }], order: null } };
          await sleep(100);
        }
      },
    },
  },
};

async function main(): Promise<void> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SERVICE_NAME: name });
  const { subgraph } = await launchSubgraph(() => ({ name, typeDefs, resolvers }), config, createLogger({ service: name, level: 'silent' }));
  process.stdout.write(`peer ${subgraph.url}\n`);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
