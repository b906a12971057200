import { breakerSettingsFor, type ResilienceSettings } from '../../../../gateway/datasource';
import { loadConfig } from '@trellis/kit';

describe('breaker settings per subgraph', () => {
  const settings: ResilienceSettings = loadConfig({
    BREAKER_TIMEOUT_MS: '2000',
    BREAKER_OVERRIDES: JSON.stringify({ catalog: { timeoutMs: 500 } }),
  }).resilience;

  it('takes config defaults, then discovery meta, then config overrides', () => {
    expect(breakerSettingsFor('users', {}, settings).timeoutMs).toBe(2000);
    expect(breakerSettingsFor('users', { breaker_timeout_ms: '750', breaker_volume_threshold: '9' }, settings)).toMatchObject({
      timeoutMs: 750,
      volumeThreshold: 9,
    });
    expect(breakerSettingsFor('catalog', { breaker_timeout_ms: '750' }, settings).timeoutMs).toBe(500);
  });

  it('ignores meta that is not a positive number', () => {
    expect(breakerSettingsFor('users', { breaker_timeout_ms: 'soon' }, settings).timeoutMs).toBe(2000);
  });

  it('refuses overrides that are not valid JSON of known fields', () => {
    expect(() => loadConfig({ BREAKER_OVERRIDES: '{catalog' })).toThrow(/BREAKER_OVERRIDES/);
    expect(() => loadConfig({ BREAKER_OVERRIDES: '{"catalog":{"timeout":5}}' })).toThrow(/BREAKER_OVERRIDES/);
  });
});
