/** The composer lock's settings (shared/config/supergraphPublication.ts): defaults, overrides, and refusals naming the variable. */
import { loadConfig } from '@trellis/kit/internal/config';

describe('published supergraph configuration', () => {
  it('defaults to a 1 s lock delay, a 10 s session TTL, a 3 s composer check and the prefix chosen by the namespace', () => {
    expect(loadConfig({}).supergraphPublication).toEqual({ prefix: undefined, lockDelay: '1s', sessionTtl: '10s', holderCheckTtl: '3s' });
  });

  it('reads each variable', () => {
    const env = { SUPERGRAPH_KV_PREFIX: 'shop/supergraph', SUPERGRAPH_LOCK_DELAY: '500ms', SUPERGRAPH_SESSION_TTL: '1m', SUPERGRAPH_COMPOSER_CHECK_TTL: '2s' };
    expect(loadConfig(env).supergraphPublication).toEqual({ prefix: 'shop/supergraph', lockDelay: '500ms', sessionTtl: '1m', holderCheckTtl: '2s' });
  });

  it.each([
    ['SUPERGRAPH_LOCK_DELAY', 'soon'],
    ['SUPERGRAPH_LOCK_DELAY', '2m'],
    ['SUPERGRAPH_SESSION_TTL', '5s'],
    ['SUPERGRAPH_COMPOSER_CHECK_TTL', '500ms'],
    ['SUPERGRAPH_KV_PREFIX', 'has space'],
  ])('refuses %s=%s, naming it', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`${variable}="${value}"`));
  });
});
