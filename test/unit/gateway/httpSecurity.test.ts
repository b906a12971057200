import { isOriginAllowed, maskInternalErrors } from '../../../gateway/http-security';

describe('isOriginAllowed', () => {
  it('allows listed origins exactly, and localhost only when the policy says so', () => {
    const listed = { allowedOrigins: ['https://shop.example.com'], allowLocalhost: false };
    expect(isOriginAllowed('https://shop.example.com', listed)).toBe(true);
    expect(isOriginAllowed('https://shop.example.com.evil.net', listed)).toBe(false);
    expect(isOriginAllowed('http://localhost:3000', listed)).toBe(false);
    const development = { allowedOrigins: [], allowLocalhost: true };
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:4000', 'http://[::1]:80', 'https://localhost']) expect(isOriginAllowed(origin, development)).toBe(true);
    expect(isOriginAllowed('http://localhost.evil.net', development)).toBe(false);
  });
});

describe('maskInternalErrors', () => {
  it('replaces an internal error with "internal error" and keeps known codes without internals', () => {
    expect(maskInternalErrors({ message: 'ECONNREFUSED 10.0.0.7', path: ['a'], extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['x'], serviceName: 'orders' } })).toEqual({
      message: 'internal error',
      path: ['a'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(maskInternalErrors({ message: 'no code here' })).toEqual({ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(maskInternalErrors({ message: 'too deep', extensions: { code: 'QUERY_TOO_DEEP', limit: 12, stacktrace: ['x'] } })).toEqual({
      message: 'too deep',
      extensions: { code: 'QUERY_TOO_DEEP', limit: 12 },
    });
  });
});
