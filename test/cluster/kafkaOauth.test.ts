/**
 * KAFKA_SASL_MECHANISM=oauthbearer end to end on the secured cluster: the platform fetches a token
 * from the token endpoint (client-credentials grant, KAFKA_SASL_USERNAME/PASSWORD as the client id
 * and secret) and logs in to the brokers with it over TLS. The endpoint here issues unsigned JWTs,
 * which the cluster's OAUTHBEARER listener validates with Kafka's unsecured validator
 * (test/stack/kafka-cluster.sh); a provider's signed tokens take the same path.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectBackends } from '@trellis/kit/internal/backends';
import { loadConfig } from '@trellis/kit/internal/config';
import { BackendUnavailableError } from '@trellis/kit/internal/errors';
import type { EventMessage } from '@trellis/kit/internal/events';
import { createLogger } from '@trellis/kit';
import { kafkaVariables, uniquePrefix } from '../support/backends';
import { securedCluster } from '../support/cluster';
import { eventually } from '../support/graphql';

securedCluster();
const CLIENT = { id: 'trellis-services', secret: 'client-secret-1' };
const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('Kafka OAUTHBEARER on the secured cluster', () => {
  let server: http.Server;
  let tokenUrl: string;
  const grants: string[] = [];

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      const [id, secret] = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':')
        .map(decodeURIComponent);
      request.resume().on('end', () => {
        grants.push(id);
        if (id !== CLIENT.id || secret !== CLIENT.secret) {
          response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_client' }));
          return;
        }
        const now = Math.floor(Date.now() / 1000);
        const token = `${base64url({ alg: 'none' })}.${base64url({ sub: id, iat: now, exp: now + 3600 })}.`;
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/token`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const configFor = (secret: string) =>
    loadConfig({
      ...kafkaVariables(process.env),
      KAFKA_SASL_MECHANISM: 'oauthbearer',
      KAFKA_SASL_USERNAME: CLIENT.id,
      KAFKA_SASL_PASSWORD: secret,
      KAFKA_SASL_OAUTHBEARER_TOKEN_URL: tokenUrl,
      KAFKA_TOPIC_PREFIX: `${uniquePrefix('oauth')}.`,
    });
  const logger = createLogger({ service: 'cluster-oauth-test', level: 'silent' });

  it('logs in with a token from the endpoint and carries events', async () => {
    grants.length = 0;
    const backends = await connectBackends(configFor(CLIENT.secret), logger, { uses: ['events'] });
    try {
      const received: EventMessage[] = [];
      await backends.events.ensureTopics(['audit']);
      const subscription = await backends.events.subscribe({ groupId: 'g', topics: ['audit'], fromBeginning: true, handler: async (m) => void received.push(m) });
      await backends.events.publish('audit', { key: 'a', value: 'signed-in-by-token' });
      await eventually(async () => expect(received.map((m) => m.value)).toEqual(['signed-in-by-token']), 30_000);
      await subscription.stop();
      expect(grants.length).toBeGreaterThan(0);
      expect(new Set(grants)).toEqual(new Set([CLIENT.id]));
    } finally {
      await backends.close();
    }
  });

  it('refuses at once, naming the token endpoint, when the endpoint refuses the client secret', async () => {
    const backends = await connectBackends(configFor('wrong-secret'), logger, { uses: ['events'] });
    try {
      const began = Date.now();
      const error = await backends.events.publish('audit', { key: 'a', value: 'never' }).catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect((error as Error).message).toContain(`cannot get an OAUTHBEARER token from ${tokenUrl}: invalid_client`);
      expect(Date.now() - began).toBeLessThan(5000);
    } finally {
      await backends.close();
    }
  });
});
