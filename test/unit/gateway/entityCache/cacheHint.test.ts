/** What a subgraph's Cache-Control allows: the entity cache keeps nothing it was not told it may. */
import { cacheHintOf } from '../../../../gateway/entityCache';
import { stricterHint } from '../../../../gateway/entityCache/cacheHint';

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

  it('reads directives with spaces around them, and not a directive that only starts like one', () => {
    expect(cacheHintOf('max-age=60 , private ')).toEqual({ maxAge: 60, scope: 'PRIVATE' });
    expect(cacheHintOf('public, max-age=60 ')).toEqual({ maxAge: 60, scope: 'PUBLIC' });
    expect(cacheHintOf('max-age=60, no-store ')).toEqual({ maxAge: 0, scope: 'PUBLIC' });
    expect(cacheHintOf('max-age=60, privately')).toEqual({ maxAge: 60, scope: 'PUBLIC' });
    expect(cacheHintOf('max-age=60s')).toEqual({ maxAge: 0, scope: 'PUBLIC' });
  });
});

describe('stricterHint', () => {
  it('is the smaller maxAge, private if either is', () => {
    expect(stricterHint({ maxAge: 30, scope: 'PUBLIC' }, { maxAge: 60, scope: 'PUBLIC' })).toEqual({ maxAge: 30, scope: 'PUBLIC' });
    expect(stricterHint({ maxAge: 60, scope: 'PRIVATE' }, { maxAge: 30, scope: 'PUBLIC' })).toEqual({ maxAge: 30, scope: 'PRIVATE' });
    expect(stricterHint({ maxAge: 60, scope: 'PUBLIC' }, { maxAge: 60, scope: 'PRIVATE' })).toEqual({ maxAge: 60, scope: 'PRIVATE' });
  });
});
