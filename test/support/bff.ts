/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of many shapes, asserted on by the tests */
/** Helpers for BFF tests: dev tokens from the platform's identity provider, web sessions, SSE and WebSocket readers. */
import WebSocket from 'ws';
import type { RunningPlatform } from './platform';
import { parseSseEvents } from './graphql';
import { platformToken } from './identity';

export const webUrl = (platform: RunningPlatform) => `http://127.0.0.1:${platform.base + 100}`;
export const mobileUrl = (platform: RunningPlatform) => `http://127.0.0.1:${platform.base + 200}`;

export function tokenFor(platform: RunningPlatform, sub: string, scopes: string[] = ['users:email', 'payments:read']): Promise<string> {
  return platformToken(platform.base, sub, scopes);
}

/** Opens a web session; the `cookie` header value to send back. */
export async function webSession(base: string, token: string): Promise<string> {
  const response = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  if (response.status !== 201) throw new Error(`session refused: ${response.status} ${await response.text()}`);
  return (response.headers.get('set-cookie') ?? '').split(';')[0];
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined, ms: performance.now() - started };
}

export async function sendJson(method: string, url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Every SSE event of a stream until it ends. */
export async function readSse(url: string, headers: Record<string, string>, timeoutMs = 20_000): Promise<{ status: number; events: Array<{ event: string; data: any }> }> {
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, events: parseSseEvents(await response.text()) };
}

/** Every WebSocket message until the server closes, and the close code. */
export function readWebSocket(url: string, headers: Record<string, string>, timeoutMs = 20_000): Promise<{ messages: any[]; code: number; status?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const messages: any[] = [];
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(messages)}`));
    }, timeoutMs);
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve({ messages, code: -1, status: res.statusCode });
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve({ messages, code });
    });
    ws.on('error', (error) => {
      if (!ws.listenerCount('unexpected-response')) reject(error);
    });
  });
}
