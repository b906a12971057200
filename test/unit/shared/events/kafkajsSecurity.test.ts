/**
 * How the kafkajs adapter maps the bus's TLS and SASL options, and which kafkajs failures count as
 * the cluster refusing this client (reported at once) rather than a broker briefly down (retried).
 * The real refusals are produced on the secured cluster by test/cluster/kafka.test.ts.
 */
import * as kafkajs from 'kafkajs';
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { isRefusal } from '@trellis/kit/internal/events/kafka/kafkajs/access';
import { kafkajsSasl, kafkajsSsl } from '@trellis/kit/internal/events/kafka/kafkajs/client';
import { TokenRefusedError } from '@trellis/kit/internal/events/kafka/oauthToken';
import { BackendUnavailableError } from '@trellis/kit/internal/errors';

// kafkajs exports these at run time, but its types leave one out and give the others no constructor arguments.
const { KafkaJSCreateTopicError, KafkaJSAggregateError, KafkaJSSASLAuthenticationError } = kafkajs as unknown as {
  KafkaJSCreateTopicError: new (cause: Error, topic: string) => Error;
  KafkaJSAggregateError: new (message: string, errors: Error[]) => Error;
  KafkaJSSASLAuthenticationError: new (message: string) => Error;
};
const connection = (code: string) => new KafkaJSConnectionError('Connection error', { code } as never);
const protocol = (type: string, retriable: boolean) => new KafkaJSProtocolError({ type, code: 0, retriable, message: type } as never);
const exceeded = (cause: Error) => new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 8, retryTime: 5000 } as never);

describe('kafkajs TLS and SASL options', () => {
  it('are absent for a plaintext cluster without a login', () => {
    expect(kafkajsSsl(undefined)).toBeUndefined();
    expect(kafkajsSasl(undefined)).toBeUndefined();
  });

  it('turn TLS on with the system CAs when no file is given, and pass the CA, certificate and key as PEM', () => {
    expect(kafkajsSsl({})).toEqual({});
    expect(kafkajsSsl({ ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' })).toEqual({ ca: ['CA PEM'], cert: 'CERT PEM', key: 'KEY PEM' });
  });

  it('pass a password login as is, and ask the token source at every OAUTHBEARER authentication', async () => {
    expect(kafkajsSasl({ mechanism: 'scram-sha-256', username: 'u', password: 'p' })).toEqual({ mechanism: 'scram-sha-256', username: 'u', password: 'p' });
    let asked = 0;
    const sasl = kafkajsSasl({ mechanism: 'oauthbearer', token: async () => `token-${++asked}` });
    expect(sasl?.mechanism).toBe('oauthbearer');
    const provider = (sasl as { oauthBearerProvider: () => Promise<{ value: string }> }).oauthBearerProvider;
    await expect(provider()).resolves.toEqual({ value: 'token-1' });
    await expect(provider()).resolves.toEqual({ value: 'token-2' });
  });
});

describe('isRefusal', () => {
  it.each<[string, unknown, boolean]>([
    ['a rejected SASL login', new KafkaJSSASLAuthenticationError('SASL SCRAM SHA512 authentication failed'), true],
    ['a token endpoint refusing the client', new TokenRefusedError('cannot get an OAUTHBEARER token'), true],
    ['a broker certificate signed by an untrusted CA', connection('SELF_SIGNED_CERT_IN_CHAIN'), true],
    ['a broker certificate for another host', connection('ERR_TLS_CERT_ALTNAME_INVALID'), true],
    ['TLS spoken to a plaintext listener', connection('ERR_SSL_WRONG_VERSION_NUMBER'), true],
    ['the broker refusing our client certificate (OpenSSL 3)', connection('ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_UNKNOWN'), true],
    ['an invalid replication factor', protocol('INVALID_REPLICATION_FACTOR', false), true],
    ['a topic the brokers refuse to create', new KafkaJSCreateTopicError(protocol('POLICY_VIOLATION', false), 't'), true],
    ['kafkajs giving up on an untrusted certificate', exceeded(connection('UNABLE_TO_VERIFY_LEAF_SIGNATURE')), true],
    ['every topic of a batch refused', new KafkaJSAggregateError('Topic creation errors', [protocol('INVALID_REPLICATION_FACTOR', false)]), true],
    ['a broker that is down', connection('ECONNREFUSED'), false],
    ['a connection timeout', new KafkaJSConnectionError('Connection timeout'), false],
    ['kafkajs giving up on a broker that is down', exceeded(connection('ECONNREFUSED')), false],
    ['metadata that lags a creation', protocol('UNKNOWN_TOPIC_OR_PARTITION', true), false],
    ['a batch with one retriable failure', new KafkaJSAggregateError('Topic creation errors', [protocol('INVALID_REPLICATION_FACTOR', false), protocol('NOT_CONTROLLER', true)]), false],
    ['a token endpoint that is down', new BackendUnavailableError('kafka', 'cannot get an OAUTHBEARER token: HTTP 503'), false],
    ['nothing at all', undefined, false],
  ])('%s', (_case, error, refused) => {
    expect(isRefusal(error)).toBe(refused);
  });
});
