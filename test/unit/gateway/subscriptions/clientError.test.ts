/** What a graphql-ws or SSE client receives for an error: the gateway's formatting, never an HTTP status or header. */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { clientError } from '../../../../gateway/subscriptions/clientError';

describe('clientError', () => {
  const recordingHost = () => {
    const seen: Array<{ formatted: GraphQLFormattedError; error: unknown }> = [];
    return {
      seen,
      host: {
        formatError: (formatted: GraphQLFormattedError, error: unknown) => {
          seen.push({ formatted, error });
          // As the masking extension does: the client gets a rewritten message and code.
          return { message: `masked: ${formatted.message}`, extensions: { ...formatted.extensions, masked: true } };
        },
      },
    };
  };

  it("drops a 429's status and Retry-After, keeps its code, and passes the gateway's formatting on", () => {
    const { host, seen } = recordingHost();
    const original = new GraphQLError('too many requests', {
      extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 3, http: { status: 429, headers: new Map([['retry-after', '3']]) } },
    });
    const error = clientError(host, original);
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error.message).toBe('masked: too many requests');
    expect(error.extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 3, masked: true });
    expect(seen).toEqual([{ formatted: { message: 'too many requests', extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 3 } }, error: original }]);
  });

  it('formats an error that is not a GraphQLError by its message, and gives the formatter the original', () => {
    const { host, seen } = recordingHost();
    const original = new Error('socket hang up');
    expect(clientError(host, original).message).toBe('masked: socket hang up');
    expect(seen).toEqual([{ formatted: { message: 'socket hang up', extensions: {} }, error: original }]);
    expect(clientError(host, 'plain text').message).toBe('masked: plain text');
  });
});
