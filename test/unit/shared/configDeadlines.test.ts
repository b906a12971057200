/** The deadlines of work that could hang (shared/config/deadlines.ts): defaults, overrides, and refusals naming the variable. */
import { loadConfig } from '@trellis/kit/internal/config';

describe('deadline configuration', () => {
  it('defaults to a 30 s composition deadline and 10 s pings with a 5 s pong timeout', () => {
    expect(loadConfig({}).deadlines).toEqual({ compositionTimeoutMs: 30_000, upstreamWs: { pingIntervalMs: 10_000, pongTimeoutMs: 5_000 } });
  });

  it('reads each variable', () => {
    expect(loadConfig({ COMPOSITION_TIMEOUT_MS: '2500', UPSTREAM_WS_PING_INTERVAL_MS: '750', UPSTREAM_WS_PONG_TIMEOUT_MS: '1500' }).deadlines).toEqual({
      compositionTimeoutMs: 2500,
      upstreamWs: { pingIntervalMs: 750, pongTimeoutMs: 1500 },
    });
  });

  it.each([
    ['COMPOSITION_TIMEOUT_MS', '0'],
    ['COMPOSITION_TIMEOUT_MS', 'soon'],
    ['UPSTREAM_WS_PING_INTERVAL_MS', '99'],
    ['UPSTREAM_WS_PONG_TIMEOUT_MS', '600001'],
  ])('refuses %s=%s, naming it', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`${variable}="${value}"`));
  });
});
