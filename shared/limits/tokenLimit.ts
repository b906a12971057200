/**
 * The token limit is enforced by graphql's own parser (`parse(source, { maxTokens })`, set through
 * Apollo Server's `parseOptions`): it stops at the first token over the limit, so a huge document
 * is cut after reading a few kilobytes. Apollo Server reports that as GRAPHQL_PARSE_FAILED; this
 * turns it into TOO_MANY_TOKENS with the limit.
 */
import type { GraphQLFormattedError } from 'graphql';
import { LimitCode } from './errors';

/** graphql 16's wording ("more that", sic); a unit test pins it, so an upgrade that changes it fails loudly. */
const TOKEN_LIMIT_MESSAGE = /Document contains more tha[nt] \d+ tokens/;

export function tokenLimitError(maxTokens: number) {
  return (formatted: GraphQLFormattedError): GraphQLFormattedError => {
    if (formatted.extensions?.code !== 'GRAPHQL_PARSE_FAILED' || !TOKEN_LIMIT_MESSAGE.test(formatted.message)) return formatted;
    return {
      message: `query has more than ${maxTokens} tokens (parsing stopped at token ${maxTokens + 1}); the limit is ${maxTokens}`,
      extensions: { code: LimitCode.TOO_MANY_TOKENS, measured: maxTokens + 1, limit: maxTokens },
    };
  };
}
