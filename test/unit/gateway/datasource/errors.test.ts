import { isRetriable, SubgraphUnavailableError, type UnavailableReason } from '../../../../gateway/datasource/errors';

describe('SubgraphUnavailableError', () => {
  it('names the subgraph and the reason in words, with the detail in brackets', () => {
    const error = new SubgraphUnavailableError('catalog', 'connection_failed', 'ECONNREFUSED');
    expect(error.message).toBe('subgraph catalog is unavailable: connection failed (ECONNREFUSED)');
    expect(error.extensions).toEqual({ code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'catalog', reason: 'connection_failed' });
    expect(error.subgraph).toBe('catalog');
    expect(error.reason).toBe('connection_failed');
  });

  it('has no brackets without a detail', () => {
    expect(new SubgraphUnavailableError('users', 'breaker_open').message).toBe('subgraph users is unavailable: breaker open');
    expect(new SubgraphUnavailableError('users', 'timeout', '').message).toBe('subgraph users is unavailable: timeout');
  });
});

describe('isRetriable', () => {
  it.each<[UnavailableReason, boolean]>([
    ['connection_failed', true],
    ['bad_response', true],
    ['timeout', false],
    ['breaker_open', false],
    ['no_instance', false],
  ])('a %s failure is retriable: %s', (reason, expected) => {
    expect(isRetriable(new SubgraphUnavailableError('catalog', reason))).toBe(expected);
  });

  it('is false for any other error', () => {
    expect(isRetriable(Object.assign(new Error('boom'), { reason: 'connection_failed' }))).toBe(false);
    expect(isRetriable(undefined)).toBe(false);
  });
});
