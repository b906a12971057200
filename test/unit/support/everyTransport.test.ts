/** The every-transport runner fails, naming the transport, when one answers otherwise, and passes when all agree. */
import { answerOnEveryTransport, pathsAndCodes, type Answer, type Transport } from '../../support/everyTransport';

const answering = (name: string, ...answers: Answer[]): Transport => ({ name, answers: async () => answers });
const forbidden = (path: Array<string | number>): Answer => ({ data: { me: null }, errors: [{ message: 'no', path, extensions: { code: 'FORBIDDEN' } }] });

describe('answerOnEveryTransport', () => {
  it('returns the one answer every transport gave', async () => {
    const answer = forbidden(['me']);
    await expect(answerOnEveryTransport('http://unused', { query: '{ me { id } }' }, { transports: [answering('A', answer), answering('B', forbidden(['me']))] })).resolves.toEqual(answer);
  });

  it.each([
    ['another path', answering('B', forbidden(['you']))],
    ['another code', answering('B', { ...forbidden(['me']), errors: [{ message: 'no', path: ['me'], extensions: { code: 'UNAUTHENTICATED' } }] })],
    ['other data', answering('B', { ...forbidden(['me']), data: { me: { id: 'u1' } } })],
    ['a second result', answering('B', forbidden(['me']), forbidden(['me']))],
  ])('fails on %s, naming the transport', async (_case, other) => {
    await expect(answerOnEveryTransport('http://unused', { query: '{ me { id } }' }, { transports: [answering('A', forbidden(['me'])), other] })).rejects.toThrow(/^B answered otherwise than A/);
  });

  it('fails when the first transport answers more than once', async () => {
    await expect(answerOnEveryTransport('http://unused', { query: '{ me { id } }' }, { transports: [answering('A', forbidden(['me']), forbidden(['me']))] })).rejects.toThrow(/length/);
  });

  it('compared by paths and codes, another message passes and another path or code still fails', async () => {
    const reason = (message: string, path = ['me'], code = 'SUBGRAPH_UNAVAILABLE'): Answer => ({ data: { me: null }, errors: [{ message, path, extensions: { code, reason: message } }] });
    const options = (other: Answer) => ({ transports: [answering('A', reason('breaker open')), answering('B', other)], compared: pathsAndCodes });
    await expect(answerOnEveryTransport('http://unused', { query: '{ me { id } }' }, options(reason('connection failed')))).resolves.toEqual({ data: { me: null }, errors: [{ message: '', path: ['me'], extensions: { code: 'SUBGRAPH_UNAVAILABLE' } }] });
    await expect(answerOnEveryTransport('http://unused', { query: '{ me { id } }' }, options(reason('breaker open', ['you'])))).rejects.toThrow(/^B answered otherwise/);
    await expect(answerOnEveryTransport('http://unused', { query: '{ me { id } }' }, options(reason('breaker open', ['me'], 'FORBIDDEN')))).rejects.toThrow(/^B answered otherwise/);
  });

  it('takes errors in any order (a deferred part brings its errors later), but not one error fewer', async () => {
    const two = (...paths: string[]): Answer => ({ data: null, errors: paths.map((path) => ({ message: 'no', path: [path], extensions: { code: 'FORBIDDEN' } })) });
    await expect(answerOnEveryTransport('http://unused', { query: '{ a b }' }, { transports: [answering('A', two('a', 'b')), answering('B', two('b', 'a'))] })).resolves.toEqual(two('a', 'b'));
    await expect(answerOnEveryTransport('http://unused', { query: '{ a b }' }, { transports: [answering('A', two('a', 'b')), answering('B', two('b'))] })).rejects.toThrow(/^B answered otherwise/);
  });
});
