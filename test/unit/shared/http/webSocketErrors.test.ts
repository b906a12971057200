/**
 * quietClientProtocolErrors drops only `ws`'s WS_ERR_* errors (a client's own protocol violation,
 * the socket already closed with its code) before graphql-ws's error listener, and passes every
 * other error on to the listeners that were there, in order, with the socket as `this`.
 */
import { EventEmitter } from 'node:events';
import { WebSocketServer } from 'ws';
import { isClientProtocolError, quietClientProtocolErrors } from '@trellis/kit/internal/http/webSocketErrors';

const protocolError = () => Object.assign(new RangeError('Max payload size exceeded'), { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' });

describe('quietClientProtocolErrors', () => {
  it("drops a client's protocol error and passes any other error to the listeners added before it, once each", () => {
    const wss = new WebSocketServer({ noServer: true });
    const heard: Array<[string, unknown, unknown]> = [];
    // What useServer does on each connection: an error listener of its own, added first.
    wss.on('connection', (socket: EventEmitter) => {
      socket.once('error', function (this: unknown, error: Error) {
        heard.push(['first', this, error.message]);
      });
      socket.on('error', (error: Error) => heard.push(['second', undefined, error.message]));
    });
    quietClientProtocolErrors(wss);
    const socket = new EventEmitter();
    wss.emit('connection', socket);

    socket.emit('error', protocolError());
    expect(heard).toEqual([]);
    socket.emit('error', new Error('ECONNRESET'));
    expect(heard).toEqual([
      ['first', socket, 'ECONNRESET'],
      ['second', undefined, 'ECONNRESET'],
    ]);
    expect(socket.listenerCount('error')).toBe(1);
    wss.close();
  });

  it('tells ws protocol errors from others by their WS_ERR_ code', () => {
    expect(isClientProtocolError(protocolError())).toBe(true);
    expect(isClientProtocolError(Object.assign(new Error('bad'), { code: 'WS_ERR_INVALID_UTF8' }))).toBe(true);
    expect(isClientProtocolError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isClientProtocolError(Object.assign(new Error('odd'), { code: 42 }))).toBe(false);
    expect(isClientProtocolError(new Error('no code'))).toBe(false);
    expect(isClientProtocolError(null)).toBe(false);
  });
});
