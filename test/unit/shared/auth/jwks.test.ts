/**
 * The remote key set's rules with an injected HTTP client and clock (the real endpoint is in
 * test/integration/auth): when it fetches, what it keeps, how it backs off, what it tells.
 */
import { exportJWK, generateKeyPair, SignJWT, decodeProtectedHeader, type JWK, type KeyLike } from 'jose';
import { Registry } from 'prom-client';
import { JWKS_BACKOFF, RemoteKeySet, SigningKeysUnavailableError } from '@trellis/kit/internal/auth';
import { createLogger } from '@trellis/kit/internal/logging';

const URL = 'https://issuer.test/jwks';
const MAX_AGE = 600_000;
const COOLDOWN = 30_000;

type Answer = { status: number; body: unknown } | 'unreachable' | 'timeout' | 'not-json';

describe('RemoteKeySet', () => {
  let keys: Array<{ kid: string; privateKey: KeyLike; jwk: JWK }>;
  let clock: number;
  let answers: Answer[];
  let requests: Array<{ url: string; accept: string; timeoutSignal: boolean }>;
  let lines: Array<{ level: string; msg: string; [key: string]: unknown }>;
  let registry: Registry;

  const published = (...kids: string[]) => ({ status: 200, body: { keys: keys.filter((key) => kids.includes(key.kid)).map((key) => key.jwk) } });
  const fakeFetch = async (url: string, init: { signal: AbortSignal; headers: Record<string, string> }): Promise<Response> => {
    requests.push({ url, accept: init.headers.accept, timeoutSignal: init.signal instanceof AbortSignal });
    const answer = answers.length > 1 ? answers.shift()! : answers[0];
    if (answer === 'unreachable') throw new TypeError('fetch failed');
    if (answer === 'timeout') throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    if (answer === 'not-json') return new Response('<html>', { status: 200 });
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json' } });
  };
  const keySet = (overrides: Partial<ConstructorParameters<typeof RemoteKeySet>[0]> = {}) =>
    new RemoteKeySet({
      url: URL,
      timeoutMs: 3000,
      cacheMaxAgeMs: MAX_AGE,
      cooldownMs: COOLDOWN,
      now: () => clock,
      fetch: fakeFetch,
      random: () => 0,
      logger: createLogger({ service: 'test', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } }),
      registry,
      ...overrides,
    });
  const tokenBy = (kid: string) => new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setSubject('u1').sign(keys.find((key) => key.kid === kid)!.privateKey);
  const lookup = async (set: RemoteKeySet, kid: string) => {
    const token = await tokenBy(kid);
    return set.getKey(decodeProtectedHeader(token) as never, { payload: '', signature: '' } as never);
  };
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const found = registry.getSingleMetric(name);
    if (!found) throw new Error(`${name} is not registered`);
    return (await found.get()).values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
  };
  const warnings = () => lines.filter((line) => line.level === 'warn');

  beforeAll(async () => {
    keys = await Promise.all(
      ['k1', 'k2'].map(async (kid) => {
        const { privateKey, publicKey } = await generateKeyPair('ES256');
        return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' } };
      }),
    );
  });
  beforeEach(() => {
    clock = 1_000_000;
    requests = [];
    lines = [];
    registry = new Registry();
    answers = [published('k1')];
  });

  it('fetches on first use with a timeout and accept: application/json, then serves from the cache until its max age', async () => {
    const set = keySet();
    await expect(lookup(set, 'k1')).resolves.toBeDefined();
    expect(requests).toEqual([{ url: URL, accept: 'application/json', timeoutSignal: true }]);
    clock += MAX_AGE - 1;
    await lookup(set, 'k1');
    expect(set.isStale()).toBe(false);
    expect(requests).toHaveLength(1);
    clock += 1; // exactly the max age: stale, refreshed in the background
    expect(set.isStale()).toBe(true);
    await lookup(set, 'k1');
    await set.settled();
    expect(requests).toHaveLength(2);
    expect(set.isStale()).toBe(false);
    expect(warnings()).toEqual([]);
  });

  it('one fetch for many concurrent first lookups', async () => {
    const set = keySet();
    await Promise.all([lookup(set, 'k1'), lookup(set, 'k1'), lookup(set, 'k1')]);
    expect(requests).toHaveLength(1);
  });

  it('an unknown kid fetches again once the cooldown since the last fetch has passed, and finds a rotated-in key', async () => {
    const set = keySet();
    await lookup(set, 'k1');
    answers = [published('k1', 'k2')];
    clock += COOLDOWN - 1;
    await expect(lookup(set, 'k2')).rejects.toThrow('no applicable key found in the JSON Web Key Set');
    expect(requests).toHaveLength(1);
    clock += 1;
    await expect(lookup(set, 'k2')).resolves.toBeDefined();
    expect(requests).toHaveLength(2);
  });

  it('an unknown kid the endpoint does not know either stays unknown', async () => {
    const set = keySet({ cooldownMs: 0 });
    await lookup(set, 'k1');
    await expect(lookup(set, 'k2')).rejects.toThrow('no applicable key found');
    expect(requests).toHaveLength(2);
  });

  it.each([
    ['answering 500', { status: 500, body: {} }, 'status', 'answered HTTP 500'],
    ['answering 404', { status: 404, body: {} }, 'status', 'answered HTTP 404'],
    ['unreachable', 'unreachable', 'unreachable', 'unreachable'],
    ['hanging past the timeout', 'timeout', 'timeout', 'no answer within 3000 ms'],
    ['answering something that is not JSON', 'not-json', 'invalid', 'answered a body that is not JSON'],
    ['answering JSON that is not a key set', { status: 200, body: { nope: true } }, 'invalid', 'answered a key set jose refuses'],
  ] as Array<[string, Answer, string, string]>)('with no keys yet and the endpoint %s: a retriable SigningKeysUnavailableError, counted and logged', async (_name, answer, reason, detail) => {
    answers = [answer];
    const refused = await lookup(keySet(), 'k1').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SigningKeysUnavailableError);
    expect(refused).toMatchObject({ detail, reason, retriable: true });
    expect(await metric('trellis_auth_jwks_refresh_failures_total', { reason })).toBe(1);
    expect(warnings()).toEqual([expect.objectContaining({ msg: 'JWKS endpoint failed and no signing keys were ever fetched: tokens cannot be verified', reason, url: URL, keptKeysFrom: null })]);
  });

  it('with no keys, retries only after the backoff, and the error says when', async () => {
    answers = [{ status: 503, body: {} }];
    const set = keySet();
    await expect(lookup(set, 'k1')).rejects.toThrow(SigningKeysUnavailableError);
    clock += JWKS_BACKOFF.initialDelayMs - 1;
    await expect(lookup(set, 'k1')).rejects.toThrow('(answered HTTP 503; next attempt in 1 ms)');
    expect(requests).toHaveLength(1);
    answers = [published('k1')];
    clock += 1;
    await expect(lookup(set, 'k1')).resolves.toBeDefined();
    expect(requests).toHaveLength(2);
  });

  it('past the max age with the endpoint down: the last good keys serve, refetches back off 1 s, 2 s, 4 s, the outage is logged once and its end once', async () => {
    const set = keySet();
    await lookup(set, 'k1');
    answers = [{ status: 500, body: {} }];
    clock += MAX_AGE;
    const attemptsAt: number[] = [];
    const start = clock;
    for (let step = 0; step <= 7000; step += 500) {
      clock = start + step;
      const before = requests.length;
      await expect(lookup(set, 'k1')).resolves.toBeDefined();
      await set.settled();
      if (requests.length > before) attemptsAt.push(step);
    }
    expect(attemptsAt).toEqual([0, 1000, 3000, 7000]);
    expect(await metric('trellis_auth_jwks_refresh_failures_total', { reason: 'status' })).toBe(4);
    expect(await metric('trellis_auth_jwks_stale_verifications_total')).toBe(14); // every lookup after the first failure
    expect(warnings()).toEqual([expect.objectContaining({ msg: 'JWKS endpoint failed; verifying with the last good signing keys until it answers', keptKeysFrom: new Date(start - MAX_AGE).toISOString() })]);

    answers = [published('k1')];
    clock = start + 15_000;
    await lookup(set, 'k1');
    await set.settled();
    expect(set.isStale()).toBe(false);
    expect(lines.filter((line) => line.level === 'info')).toEqual([expect.objectContaining({ msg: 'JWKS endpoint answers again; signing keys refreshed', outageMs: 15_000 })]);
    // The backoff starts over for the next outage.
    answers = [{ status: 500, body: {} }];
    clock += MAX_AGE;
    await lookup(set, 'k1');
    await set.settled();
    clock += 1000;
    await lookup(set, 'k1');
    await set.settled();
    expect(requests).toHaveLength(8); // refetched at 1 s again, not at 8 s
    expect(warnings()).toHaveLength(2);
  });

  it('is not stale (and counts nothing) while it has no keys, and works without logger or registry', async () => {
    const set = keySet({ logger: undefined, registry: undefined });
    expect(set.isStale()).toBe(false);
    answers = ['unreachable'];
    await expect(lookup(set, 'k1')).rejects.toThrow(SigningKeysUnavailableError);
    expect(registry.getSingleMetric('trellis_auth_jwks_refresh_failures_total')).toBeUndefined();
  });

  it('shares its metrics with another key set on the same registry', async () => {
    answers = ['unreachable'];
    await expect(lookup(keySet(), 'k1')).rejects.toThrow();
    await expect(lookup(keySet(), 'k1')).rejects.toThrow();
    expect(await metric('trellis_auth_jwks_refresh_failures_total', { reason: 'unreachable' })).toBe(2);
  });
});

describe('RemoteKeySet in an outage, more rules', () => {
  let clock: number;
  let calls: number;
  let failing: boolean;
  let jwk: JWK;
  let privateKey: KeyLike;
  const fetchKeys = async (): Promise<Response> => {
    calls += 1;
    if (failing) return new Response('down', { status: 502 });
    return new Response(JSON.stringify({ keys: [jwk] }), { status: 200 });
  };
  const lookup = async (set: RemoteKeySet, kid: string) => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
    return set.getKey(decodeProtectedHeader(token) as never, { payload: '', signature: '' } as never);
  };

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  });
  beforeEach(() => {
    clock = 5_000_000;
    calls = 0;
    failing = false;
  });

  it('an unknown kid during the backoff does not fetch, even past the cooldown', async () => {
    const set = new RemoteKeySet({ url: URL, timeoutMs: 100, cacheMaxAgeMs: MAX_AGE, cooldownMs: 0, now: () => clock, fetch: fetchKeys, random: () => 0 });
    await lookup(set, 'k1');
    failing = true;
    clock += MAX_AGE;
    await lookup(set, 'k1');
    await set.settled();
    expect(calls).toBe(2); // failed: backoff until +1 s
    await expect(lookup(set, 'k9')).rejects.toThrow('no applicable key found');
    expect(calls).toBe(2);
    clock += 1000;
    failing = false;
    await expect(lookup(set, 'k9')).rejects.toThrow('no applicable key found');
    await set.settled();
    expect(calls).toBe(3); // one fetch, shared by the background refresh and the kid lookup
  });

  it('serves stale keys with no logger or registry', async () => {
    const set = new RemoteKeySet({ url: URL, timeoutMs: 100, cacheMaxAgeMs: MAX_AGE, cooldownMs: COOLDOWN, now: () => clock, fetch: fetchKeys, random: () => 0 });
    await lookup(set, 'k1');
    failing = true;
    clock += MAX_AGE;
    await lookup(set, 'k1');
    await set.settled();
    await expect(lookup(set, 'k1')).resolves.toBeDefined();
    expect(set.isStale()).toBe(true);
  });

  it('uses the default backoff (1 s first) when given none', async () => {
    failing = true;
    const set = new RemoteKeySet({ url: URL, timeoutMs: 100, cacheMaxAgeMs: MAX_AGE, cooldownMs: COOLDOWN, now: () => clock, fetch: fetchKeys, random: () => 0 });
    await expect(lookup(set, 'k1')).rejects.toThrow(SigningKeysUnavailableError);
    await expect(lookup(set, 'k1')).rejects.toThrow('next attempt in 1000 ms');
    expect(JWKS_BACKOFF).toEqual({ initialDelayMs: 1000, maxDelayMs: 60_000, multiplier: 2, jitter: 0.2 });
  });
});
