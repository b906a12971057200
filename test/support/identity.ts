/** Tokens for tests: the kit's test identity provider, and a running platform's own. */
export { startTestIdentity, type TestIdentity } from '@trellis/kit/testing';

/** A token from a running platform's identity provider (`npm start` serves it at base + 400). */
export async function platformToken(base: number, sub: string, scopes: string[] = []): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${base + 400}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub, scopes }),
  });
  if (!response.ok) throw new Error(`token request failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}
