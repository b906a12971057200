/** What the platformatic Kafka bus tells its clients: the bus's TLS and SASL options in the library's terms. */
import { platformaticBaseOptions } from '@trellis/kit/internal/events/kafka/platformatic/client';

describe('platformatic Kafka client options', () => {
  it('speaks plaintext without SASL when neither is set', () => {
    const options = platformaticBaseOptions({ brokers: ['b1:9092', 'b2:9092'], clientId: 'svc' });
    expect(options).toMatchObject({ clientId: 'svc', bootstrapBrokers: ['b1:9092', 'b2:9092'] });
    expect(options.tls).toBeUndefined();
    expect(options.sasl).toBeUndefined();
  });

  it('passes the CA and the client certificate for mTLS', () => {
    const options = platformaticBaseOptions({ brokers: ['b:9093'], tls: { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' } });
    expect(options.tls).toEqual({ ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' });
  });

  it.each([
    ['plain', 'PLAIN'],
    ['scram-sha-256', 'SCRAM-SHA-256'],
    ['scram-sha-512', 'SCRAM-SHA-512'],
  ] as const)('maps %s to the %s mechanism with the user and password', (mechanism, expected) => {
    const options = platformaticBaseOptions({ brokers: ['b:9093'], sasl: { mechanism, username: 'trellis', password: 's3cret' } });
    expect(options.sasl).toEqual({ mechanism: expected, username: 'trellis', password: 's3cret' });
  });

  it('hands OAUTHBEARER the token provider itself, so every new connection gets a fresh token', async () => {
    let issued = 0;
    const token = async () => `token-${++issued}`;
    const options = platformaticBaseOptions({ brokers: ['b:9093'], sasl: { mechanism: 'oauthbearer', token } });
    expect(options.sasl).toEqual({ mechanism: 'OAUTHBEARER', token });
  });
});
