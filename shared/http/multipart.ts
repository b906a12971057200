/**
 * Writes a stream of JSON parts as `multipart/mixed` (RFC 1341), the framing Apollo Router uses for
 * multipart subscriptions and @defer and that Apollo Client's multipart reader reads: boundary
 * `graphql`, each part as `content-type: application/json` and its JSON, and each part followed at
 * once by the next delimiter, because a reader yields a part only when it sees the delimiter after
 * it. The closing delimiter (`--graphql--`) says the stream ended on purpose; a body cut before it
 * is a failure to the reader.
 *
 * Each part is flushed as written (through `compression`, when it sits in front), heartbeats keep
 * idle intermediaries from closing the connection, and the producer is told through an abort signal
 * when the client leaves or the server stops, so it can close what feeds it (an upstream
 * subscription) even while it waits for its next value.
 */
import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { MultipartSpec } from './graphqlOverHttp';

export const MULTIPART_BOUNDARY = 'graphql';
const DELIMITER = `\r\n--${MULTIPART_BOUNDARY}`;
const PART_HEADERS = '\r\ncontent-type: application/json; charset=utf-8\r\n\r\n';
const CLOSE = '--\r\n';

/** The answer's Content-Type for `spec`, as Apollo Router spells it. */
export function multipartContentType(spec: MultipartSpec): string {
  return `multipart/mixed;boundary="${MULTIPART_BOUNDARY}";${spec}`;
}

/** Why a multipart answer ended. */
export type MultipartEnd = 'complete' | 'disconnected' | 'stopped' | 'failed';

export interface MultipartOptions {
  /** The format, named in the Content-Type. */
  spec: MultipartSpec;
  /** Writes `{}` every this many ms in which no other part went out; 0 or absent: no heartbeats. */
  heartbeatMs?: number;
  /** Aborted when the server stops: the stream ends at once, after `closingPart` if given. */
  stop?: AbortSignal;
  /** The last part written when `stop` ends the stream (e.g. a transport-level error), given the stop's reason. */
  closingPart?: (reason: unknown) => unknown;
  /**
   * The last part written when the producer throws, after which the stream closes cleanly. Without
   * it the body is cut short (the reader sees a failure) and `writeMultipart` rejects with the error.
   */
  failurePart?: (error: unknown) => unknown;
}

/**
 * Answers `res` with the parts `produce` yields, until it returns, throws, the client leaves or
 * `stop` aborts; `produce` gets a signal aborted (with the `MultipartEnd` as reason) when the stream
 * ends for any reason but its own return. Resolves with why the stream ended.
 */
export async function writeMultipart(
  res: ServerResponse,
  produce: (signal: AbortSignal) => AsyncIterable<unknown>,
  options: MultipartOptions,
): Promise<MultipartEnd> {
  const abort = new AbortController();
  const ended = new Promise<MultipartEnd>((resolve) =>
    abort.signal.addEventListener('abort', () => resolve(abort.signal.reason as MultipartEnd), { once: true }),
  );
  const end = (reason: MultipartEnd) => abort.abort(reason);
  const onClose = () => end('disconnected');
  const onStop = () => end('stopped');
  res.once('close', onClose);
  if (options.stop?.aborted) end('stopped');
  else options.stop?.addEventListener('abort', onStop, { once: true });

  res.statusCode = 200;
  res.setHeader('content-type', multipartContentType(options.spec));
  res.setHeader('cache-control', 'no-cache');
  res.setHeader('x-accel-buffering', 'no'); // proxies must not buffer a stream
  res.removeHeader('content-length');
  // The opening delimiter goes with the headers: the client's fetch resolves now, not at the first event.
  write(res, DELIMITER);

  const heartbeat = options.heartbeatMs ? startHeartbeat(res, options.heartbeatMs) : undefined;
  const iterator = produce(abort.signal)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const pending = iterator.next();
      // Lost to the stream's end, its failure has no one left to tell.
      pending.catch(() => undefined);
      const next = await Promise.race([pending, ended]);
      if (typeof next === 'string') break;
      if (next.done) {
        end('complete');
        break;
      }
      heartbeat?.reset();
      await writePart(res, next.value, abort.signal);
    }
  } catch (error) {
    if (!abort.signal.aborted && options.failurePart) {
      end('failed');
      await writePart(res, options.failurePart(error), undefined);
    } else if (!abort.signal.aborted) {
      end('failed');
      res.destroy();
      throw error;
    }
  } finally {
    heartbeat?.stop();
    res.off('close', onClose);
    options.stop?.removeEventListener('abort', onStop);
    // A producer waiting for its next value finishes when the signal reaches it; its return is not awaited.
    if (abort.signal.reason !== 'complete') void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
  const reason = abort.signal.reason as MultipartEnd;
  if (reason === 'stopped' && options.closingPart)
    await writePart(res, options.closingPart(options.stop?.reason), undefined);
  if (reason !== 'disconnected' && !res.destroyed) res.end(CLOSE);
  return reason;
}

/** One part and the delimiter after it, flushed; waits while the client reads slower than we write (unless the stream ends). */
async function writePart(res: ServerResponse, part: unknown, signal: AbortSignal | undefined): Promise<void> {
  if (res.destroyed || res.writableEnded) return;
  if (write(res, `${PART_HEADERS}${JSON.stringify(part)}${DELIMITER}`)) return;
  await once(res, 'drain', signal ? { signal } : {}).catch(() => undefined);
}

/** Writes and flushes (`compression` keeps what it is given until flushed); false when the socket's buffer is full. */
function write(res: ServerResponse, chunk: string): boolean {
  const written = res.write(chunk);
  (res as ServerResponse & { flush?: () => void }).flush?.();
  return written;
}

/** `{}` every `intervalMs` in which nothing else went out. */
function startHeartbeat(res: ServerResponse, intervalMs: number) {
  let quiet = true;
  const timer = setInterval(() => {
    if (quiet && !res.writableNeedDrain) write(res, `${PART_HEADERS}{}${DELIMITER}`);
    quiet = true;
  }, intervalMs);
  timer.unref();
  return {
    reset: () => void (quiet = false),
    stop: () => clearInterval(timer),
  };
}
