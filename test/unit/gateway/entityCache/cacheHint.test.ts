/** What a subgraph's Cache-Control allows: the entity cache keeps nothing it was not told it may. */
import { cacheHintOf } from '../../../../gateway/entityCache';

describe('cacheHintOf', () => {
  it("reads Apollo Server's header: max-age and scope", () => {
    expect(cacheHintOf('max-age=60, public')).toEqual({ maxAge: 60, scope: 'PUBLIC' });
    expect(cacheHintOf('max-age=5, private')).toEqual({ maxAge: 5, scope: 'PRIVATE' });
    expect(cacheHintOf('private, max-age=5')).toEqual({ maxAge: 5, scope: 'PRIVATE' });
    expect(cacheHintOf('max-age=60')).toEqual({ maxAge: 60, scope: 'PUBLIC' });
  });

  it('is uncacheable without a header, without max-age, with no-store or no-cache, or unreadable', () => {
    for (const header of [undefined, '', 'public', 'no-store', 'max-age=60, no-store', 'no-cache, max-age=60', 'max-age=soon', 's-maxage=60']) {
      expect(cacheHintOf(header)).toEqual({ maxAge: 0, scope: 'PUBLIC' });
    }
  });
});
