import { parse, GraphQLError } from 'graphql';
import { tokenLimitError } from '@trellis/kit/internal/limits/tokenLimit';

describe('tokenLimitError', () => {
  it("turns graphql's own token-limit parse error into TOO_MANY_TOKENS", () => {
    let error: GraphQLError | undefined;
    try {
      parse(`{ a ${'b '.repeat(50)} }`, { maxTokens: 20 });
    } catch (caught) {
      error = caught as GraphQLError;
    }
    expect(error).toBeDefined();
    const formatted = tokenLimitError(20)({ message: error!.message, extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
    expect(formatted).toEqual({
      message: 'query has more than 20 tokens (parsing stopped at token 21); the limit is 20',
      extensions: { code: 'TOO_MANY_TOKENS', measured: 21, limit: 20 },
    });
  });

  it('leaves other syntax errors alone', () => {
    const other = { message: 'Syntax Error: Expected Name, found <EOF>.', extensions: { code: 'GRAPHQL_PARSE_FAILED' } };
    expect(tokenLimitError(20)(other)).toBe(other);
    const sameWords = { message: 'Syntax Error: Document contains more than 20 tokens. Parsing aborted.', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    expect(tokenLimitError(20)(sameWords)).toBe(sameWords);
  });
});
