/** `--print-config` shows the effective configuration and never a credential. */
import { formatConfig, loadConfig, maskSecrets } from '@trellis/kit/internal/config';

describe('maskSecrets', () => {
  it.each(['token', 'adminToken', 'clientSecret', 'password', 'credentials', 'apiKey', 'api-key', 'APIKEY'])(
    'masks the value of a field named %s',
    (key) => {
      expect(maskSecrets({ [key]: 'hunter2', host: 'db' })).toEqual({ [key]: '***', host: 'db' });
    },
  );

  it('leaves fields with other names alone, whatever their type', () => {
    const value = { host: 'db', port: 5432, tls: false, none: null, missing: undefined, tags: ['a', 'b'] };
    expect(maskSecrets(value)).toEqual(value);
  });

  it('masks the password in a URL, keeping the rest of it, in any field or list', () => {
    expect(maskSecrets({ redis: 'redis://app:s3cret@redis:6379/0', brokers: ['kafka://u:p@k1:9092'] })).toEqual({
      redis: 'redis://app:***@redis:6379/0',
      brokers: ['kafka://u:***@k1:9092'],
    });
  });

  it('leaves URLs without a password, and text that only looks like one, as they are', () => {
    for (const text of [
      'redis://app@redis:6379',
      'http://example.com/a@b',
      'mailto:a@b.example',
      'user@host',
      'x://[bad@',
      'plain text',
    ])
      expect(maskSecrets({ value: text })).toEqual({ value: text });
  });

  it("masks the value a header rule inserts when the header carries a credential, and only that rule's value", () => {
    expect(
      maskSecrets({
        request: [
          { insert: { name: 'Authorization', value: 'Bearer abc' } },
          { insert: { name: 'x-api-key', value: 'k' } },
          { insert: { name: 'cookie', value: 'sid=1' } },
          { insert: { name: 'x-gateway', value: 'trellis' } },
          { propagate: { named: 'authorization' } },
        ],
      }),
    ).toEqual({
      request: [
        { insert: { name: 'Authorization', value: '***' } },
        { insert: { name: 'x-api-key', value: '***' } },
        { insert: { name: 'cookie', value: '***' } },
        { insert: { name: 'x-gateway', value: 'trellis' } },
        { propagate: { named: 'authorization' } },
      ],
    });
  });
});

describe('formatConfig', () => {
  it('prints the configuration as indented JSON ending in a newline, with credentials masked', () => {
    const printed = formatConfig(
      loadConfig({
        ADMIN_TOKEN: 'a-long-admin-token-1234',
        CONSUL_HTTP_TOKEN: 'consul-secret',
        REDIS_URL: 'redis://app:s3cret@redis:6379/0',
      }),
    );
    expect(printed.endsWith('}\n')).toBe(true);
    expect(printed).toContain('\n  "admin": {\n    "host": "127.0.0.1",\n    "token": "***"\n  },');
    expect(printed).not.toMatch(/a-long-admin-token|consul-secret|s3cret/);
    expect(JSON.parse(printed).consul.token).toBe('***');
  });
});
