/**
 * The checks' finish applied part by part, with a finish that acts as auth's does (writes `null`
 * where a field was removed, adds one FORBIDDEN error per removed field path, list elements as `@`):
 * the primary part keeps only what the finish added inside its own selection, a deferred part is
 * finished where it lives in the whole result, an added error goes out once, in the first part
 * that carries it, and the gateway's formatting applies to every part.
 */
import { GraphQLError, type ExecutionResult } from 'graphql';
import { PartFinishing } from '../../../../gateway/incremental/execution';
import type { Delivered, IncrementalPayload } from '../../../../gateway/incremental';

type Json = Record<string, unknown>;
const forbidden = (path: Array<string | number>) =>
  new GraphQLError('not allowed', { path, extensions: { code: 'FORBIDDEN' } });

/** Removes `email` under `me` and under every review's `author`, as auth's finish does for a field the caller may not see. */
const seen: unknown[] = [];
const finish = (result: ExecutionResult): ExecutionResult => {
  seen.push(structuredClone(result.data));
  const data = result.data as Json | null | undefined;
  const errors = [...(result.errors ?? [])];
  const me = data?.me as Json | undefined;
  if (me) {
    me.email = null;
    errors.push(forbidden(['me', 'email']));
  }
  const reviews = ((data?.product as Json | undefined)?.reviews ?? []) as Array<Json | undefined>;
  const authors = reviews.flatMap((review) => (review?.author ? [review.author as Json] : []));
  authors.forEach((author) => (author.email = null));
  if (authors.length > 0) errors.push(forbidden(['product', 'reviews', '@', 'author', 'email']));
  return { ...result, errors };
};
/** The gateway's formatting: here it marks every error it saw. */
const format = (result: ExecutionResult): ExecutionResult => ({
  ...result,
  ...(result.errors
    ? { errors: result.errors.map((e) => new GraphQLError(`formatted: ${e.message}`, { path: e.path, extensions: e.extensions })) }
    : {}),
});
const messages = (errors?: readonly GraphQLError[]) => errors?.map((e) => [e.message, e.path, e.extensions.code]);

const primaryPaths = new Set(['me', 'me.name', 'me.email', 'product', 'product.reviews', 'product.reviews.author', 'product.reviews.author.name']);
const initial = (result: ExecutionResult, hasNext = true): IncrementalPayload => ({ kind: 'initial', result, pending: [], hasNext });
const subsequent = (delivered: Delivered[]): IncrementalPayload => ({ kind: 'subsequent', delivered, pending: [], hasNext: false });

beforeEach(() => (seen.length = 0));

describe('PartFinishing, the primary part', () => {
  const data = () => ({
    me: { name: 'Ann' },
    product: { reviews: [{ author: { name: 'Bo' } }, null] },
  });

  it('keeps what the finish adds inside its selection, drops what it adds inside a deferred fragment, keeps errors it already had', () => {
    const own = new GraphQLError('reviews failed', { path: ['product', 'reviews', 1] });
    const unplaced = new GraphQLError('no path');
    const parts = new PartFinishing(
      (result) => {
        const finished = finish(result);
        return { ...finished, errors: [...finished.errors!, unplaced] };
      },
      format,
      // The author's email is deferred: not among the primary paths.
      new Set([...primaryPaths].filter((path) => path !== 'product.reviews.author.email')),
    );
    const payload = parts.finish(initial({ data: data(), errors: [own] }));
    if (payload.kind !== 'initial') throw new Error('an initial payload is finished as one');
    expect(payload.result.data).toStrictEqual({
      me: { name: 'Ann', email: null },
      product: { reviews: [{ author: { name: 'Bo' } }, null] },
    });
    expect(messages(payload.result.errors)).toStrictEqual([
      ['formatted: reviews failed', ['product', 'reviews', 1], undefined],
      ['formatted: not allowed', ['me', 'email'], 'FORBIDDEN'],
      ['formatted: no path', undefined, undefined],
    ]);
  });

  it('a key the part already had is kept, whatever the finish wrote into it', () => {
    const parts = new PartFinishing(finish, format, new Set(['me', 'me.name']));
    const payload = parts.finish(initial({ data: { me: { name: 'Ann', email: 'a@example.com' } } }));
    if (payload.kind !== 'initial') throw new Error('an initial payload is finished as one');
    expect(payload.result.data).toStrictEqual({ me: { name: 'Ann', email: null } });
  });

  it('the whole result when nothing follows, or without the primary paths: nothing pruned', () => {
    const cases: Array<[PartFinishing, boolean]> = [
      [new PartFinishing(finish, format, new Set(['me'])), false],
      [new PartFinishing(finish, format), true],
    ];
    for (const [parts, hasNext] of cases) {
      const payload = parts.finish(initial({ data: data() }, hasNext));
      if (payload.kind !== 'initial') throw new Error('an initial payload is finished as one');
      expect(payload.result.data).toStrictEqual({
        me: { name: 'Ann', email: null },
        product: { reviews: [{ author: { name: 'Bo', email: null } }, null] },
      });
      expect(messages(payload.result.errors)).toStrictEqual([
        ['formatted: not allowed', ['me', 'email'], 'FORBIDDEN'],
        ['formatted: not allowed', ['product', 'reviews', '@', 'author', 'email'], 'FORBIDDEN'],
      ]);
    }
  });
});

describe('PartFinishing, deferred parts', () => {
  const author = (index: number) => ({ id: String(index), path: ['product', 'reviews', index, 'author'] });

  it('each part is finished where it lives in the whole result; the error the finish adds goes out once, with the first part', () => {
    const parts = new PartFinishing(finish, format, primaryPaths);
    const payload = parts.finish(
      subsequent([
        { pending: author(1), data: { name: 'Bo' } },
        { pending: author(0), data: { name: 'Cy' } },
      ]),
    );
    if (payload.kind !== 'subsequent') throw new Error('a subsequent payload is finished as one');
    // The finish saw each part alone, at its place (list elements before it left empty).
    expect(JSON.parse(JSON.stringify(seen))).toStrictEqual([
      { product: { reviews: [null, { author: { name: 'Bo' } }] } },
      { product: { reviews: [{ author: { name: 'Cy' } }] } },
    ]);
    expect(payload.delivered.map(({ pending, data }) => [pending.id, data])).toStrictEqual([
      ['1', { name: 'Bo', email: null }],
      ['0', { name: 'Cy', email: null }],
    ]);
    expect(messages(payload.delivered[0]!.errors)).toStrictEqual([
      ['formatted: not allowed', ['product', 'reviews', '@', 'author', 'email'], 'FORBIDDEN'],
    ]);
    expect(payload.delivered[1]).not.toHaveProperty('errors');
    // Later payloads of the same request do not repeat it either.
    const later = parts.finish(subsequent([{ pending: author(2), data: { name: 'Di' } }]));
    expect(later.kind === 'subsequent' && later.delivered[0]).toStrictEqual({
      pending: author(2),
      data: { name: 'Di', email: null },
    });
  });

  it("a part's own errors always go out, formatted, even when another part had the same", () => {
    const parts = new PartFinishing((result) => result, format, primaryPaths);
    const failed = () => new GraphQLError('author failed', { path: ['product', 'reviews', 0, 'author', 'name'] });
    const first = parts.finish(subsequent([{ pending: author(0), data: { name: null }, errors: [failed()] }]));
    const second = parts.finish(subsequent([{ pending: author(0), data: { name: null }, errors: [failed()] }]));
    for (const payload of [first, second])
      expect(payload.kind === 'subsequent' && messages(payload.delivered[0]!.errors)).toStrictEqual([
        ['formatted: author failed', ['product', 'reviews', 0, 'author', 'name'], undefined],
      ]);
  });

  it('a part that failed as a whole stays null, with its errors; the finish sees no data for it', () => {
    const parts = new PartFinishing(finish, format, primaryPaths);
    const payload = parts.finish(
      subsequent([{ pending: author(0), data: null, errors: [new GraphQLError('down', { path: ['product', 'reviews', 0, 'author'] })] }]),
    );
    expect(seen).toStrictEqual([null]);
    expect(payload.kind === 'subsequent' && payload.delivered[0]!.data).toBeNull();
    expect(payload.kind === 'subsequent' && messages(payload.delivered[0]!.errors)).toStrictEqual([
      ['formatted: down', ['product', 'reviews', 0, 'author'], undefined],
    ]);
  });

  it('a part at the root is finished as the whole result it is', () => {
    const parts = new PartFinishing(finish, format, primaryPaths);
    const payload = parts.finish(subsequent([{ pending: { id: '0', path: [] }, data: { me: { name: 'Ann' } } }]));
    expect(payload.kind === 'subsequent' && payload.delivered[0]!.data).toStrictEqual({ me: { name: 'Ann', email: null } });
  });
});
