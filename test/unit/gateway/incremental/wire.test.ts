/**
 * The two wire formats as a client's handler reads them, payload by payload: which keys each
 * payload carries and which it leaves out (an absent `label`, `errors`, `pending` or `incremental`
 * is not the same as one set to undefined or empty), where errors sit, and the `pending` /
 * `completed` ids of incrementalSpec v0.2. Whole payloads are compared strictly.
 */
import { GraphQLError } from 'graphql';
import { deferSpec20220824, incrementalSpecV02, type Delivered, type IncrementalPayload } from '../../../../gateway/incremental';

const format = (errors?: readonly GraphQLError[]) => errors?.map((error) => error.toJSON());
const failed = new GraphQLError('warehouse closed', { path: ['products', 1, 'warehouse'] });
const reviews = { id: '0', path: ['products', 0], label: 'reviews' };
const unlabeled = { id: '1', path: ['products', 1] };

const initial = (over: Partial<Extract<IncrementalPayload, { kind: 'initial' }>> = {}): IncrementalPayload => ({
  kind: 'initial',
  result: { data: { products: [{ id: 'p1' }, { id: 'p2' }] } },
  pending: [reviews, unlabeled],
  hasNext: true,
  ...over,
});
const subsequent = (delivered: Delivered[], over: Partial<Extract<IncrementalPayload, { kind: 'subsequent' }>> = {}) =>
  ({ kind: 'subsequent', delivered, pending: [], hasNext: false, ...over }) as IncrementalPayload;

describe('deferSpec=20220824', () => {
  it('the initial payload: data and hasNext, no pending (the format has none)', () => {
    expect(deferSpec20220824(initial(), format)).toStrictEqual({
      data: { products: [{ id: 'p1' }, { id: 'p2' }] },
      hasNext: true,
    });
  });

  it('the initial payload keeps its errors and extensions, and leaves out data it does not have', () => {
    const payload = initial({
      result: { errors: [failed], extensions: { valueCompletion: [] } },
      pending: [],
      hasNext: false,
    });
    expect(deferSpec20220824(payload, format)).toStrictEqual({
      errors: [{ message: 'warehouse closed', path: ['products', 1, 'warehouse'] }],
      extensions: { valueCompletion: [] },
      hasNext: false,
    });
  });

  it('an empty error list is left out', () => {
    expect(deferSpec20220824(initial({ result: { data: {}, errors: [] }, hasNext: false }), format)).toStrictEqual({
      data: {},
      hasNext: false,
    });
  });

  it('a subsequent payload: each part with its data, path, label when it has one, and its own errors', () => {
    const payload = subsequent(
      [
        { pending: reviews, data: { reviews: [] } },
        { pending: unlabeled, data: { warehouse: null }, errors: [failed] },
      ],
      { hasNext: true },
    );
    expect(deferSpec20220824(payload, format)).toStrictEqual({
      incremental: [
        { data: { reviews: [] }, path: ['products', 0], label: 'reviews' },
        {
          data: { warehouse: null },
          path: ['products', 1],
          errors: [{ message: 'warehouse closed', path: ['products', 1, 'warehouse'] }],
        },
      ],
      hasNext: true,
    });
  });

  it('a fragment that failed as a whole: data null at its path, with its errors', () => {
    const payload = subsequent([{ pending: unlabeled, data: null, errors: [failed] }]);
    expect(deferSpec20220824(payload, format)).toStrictEqual({
      incremental: [
        {
          data: null,
          path: ['products', 1],
          errors: [{ message: 'warehouse closed', path: ['products', 1, 'warehouse'] }],
        },
      ],
      hasNext: false,
    });
  });
});

describe('incrementalSpec=v0.2', () => {
  it('the initial payload announces every pending fragment by id and path, with its label when it has one', () => {
    expect(incrementalSpecV02(initial(), format)).toStrictEqual({
      data: { products: [{ id: 'p1' }, { id: 'p2' }] },
      pending: [
        { id: '0', path: ['products', 0], label: 'reviews' },
        { id: '1', path: ['products', 1] },
      ],
      hasNext: true,
    });
  });

  it('nothing pending: no pending key; errors and extensions kept', () => {
    const payload = initial({ result: { data: null, errors: [failed], extensions: { cost: 3 } }, pending: [], hasNext: false });
    expect(incrementalSpecV02(payload, format)).toStrictEqual({
      data: null,
      errors: [{ message: 'warehouse closed', path: ['products', 1, 'warehouse'] }],
      extensions: { cost: 3 },
      hasNext: false,
    });
  });

  it('a subsequent payload: data by id in incremental, every delivered id completed, newly pending announced', () => {
    const author = { id: '2', path: ['products', 0, 'reviews', 0], label: 'author' };
    const payload = subsequent(
      [
        { pending: reviews, data: { reviews: [{ body: 'good' }] } },
        { pending: unlabeled, data: { warehouse: null }, errors: [failed] },
      ],
      { pending: [author], hasNext: true },
    );
    expect(incrementalSpecV02(payload, format)).toStrictEqual({
      pending: [{ id: '2', path: ['products', 0, 'reviews', 0], label: 'author' }],
      incremental: [
        { id: '0', data: { reviews: [{ body: 'good' }] } },
        {
          id: '1',
          data: { warehouse: null },
          errors: [{ message: 'warehouse closed', path: ['products', 1, 'warehouse'] }],
        },
      ],
      completed: [{ id: '0' }, { id: '1' }],
      hasNext: true,
    });
  });

  it('a fragment that failed as a whole is completed with its errors and sends no data', () => {
    const payload = subsequent([
      { pending: reviews, data: { reviews: [] } },
      { pending: unlabeled, data: null, errors: [failed] },
    ]);
    expect(incrementalSpecV02(payload, format)).toStrictEqual({
      incremental: [{ id: '0', data: { reviews: [] } }],
      completed: [
        { id: '0' },
        { id: '1', errors: [{ message: 'warehouse closed', path: ['products', 1, 'warehouse'] }] },
      ],
      hasNext: false,
    });
  });

  it('only failed fragments: no incremental key at all, just their completion', () => {
    const payload = subsequent([{ pending: unlabeled, data: null, errors: [failed] }]);
    expect(incrementalSpecV02(payload, format)).toStrictEqual({
      completed: [{ id: '1', errors: [{ message: 'warehouse closed', path: ['products', 1, 'warehouse'] }] }],
      hasNext: false,
    });
  });

  it('a failed fragment without errors is completed with none', () => {
    const payload = subsequent([{ pending: unlabeled, data: null, errors: [] }]);
    expect(incrementalSpecV02(payload, format)).toStrictEqual({ completed: [{ id: '1' }], hasNext: false });
  });
});
