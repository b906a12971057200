/**
 * The development identity provider `npm start` runs on the embedded platform: a key pair made
 * at start, its public half at `/.well-known/jwks.json`, and `POST /token` minting access tokens
 * for any subject and scopes. Never started when a real issuer is configured.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import express from 'express';
import { z } from 'zod';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { closeServer, listen } from '../http';
import type { Logger } from '../logging';

const ALGORITHM = 'ES256';
const tokenRequest = z
  .object({
    sub: z.string().min(1).max(200),
    scopes: z.array(z.string().regex(/^[\w:.-]+$/, 'letters, digits and : . - _ only')).max(50).default([]),
    ttl: z.number().int().min(1).max(24 * 3600).default(3600),
  })
  .strict();

export interface IdentityProviderOptions {
  /** The `iss` of minted tokens; its JWKS is `<issuer>/.well-known/jwks.json`. */
  issuer: string;
  audience: string;
  logger: Logger;
}

export class DevIdentityProvider {
  private readonly server: Server;
  private keys?: { privateKey: KeyLike; jwk: Record<string, unknown> };

  constructor(private readonly options: IdentityProviderOptions) {
    const app = express();
    app.disable('x-powered-by');
    app.get('/.well-known/jwks.json', (_req, res) => {
      res.setHeader('cache-control', 'public, max-age=300');
      res.json({ keys: [this.keys?.jwk] });
    });
    app.post('/token', express.json({ limit: '16kb' }), async (req, res) => {
      const parsed = tokenRequest.safeParse(req.body);
      if (!parsed.success) {
        res.status(400).json({ error: 'invalid_request', error_description: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
        return;
      }
      const { sub, scopes, ttl } = parsed.data;
      res.json({ access_token: await this.mint(sub, scopes, ttl), token_type: 'Bearer', expires_in: ttl, scope: scopes.join(' ') });
    });
    app.get('/health/live', (_req, res) => res.json({ status: 'ok' }));
    app.get('/health/ready', (_req, res) => res.status(this.keys ? 200 : 503).json({ status: this.keys ? 'ok' : 'starting' }));
    app.use(((error, _req, res, _next) => {
      res.status(error.status && error.status < 500 ? error.status : 500).json({ error: 'invalid_request', error_description: error.status < 500 ? error.message : 'internal error' });
    }) as express.ErrorRequestHandler);
    this.server = createServer(app);
  }

  /**
   * Signs a token for `sub` with `scopes` (space-separated `scope` claim, as OAuth 2 does).
   * `overrides` exist for tests of the verifier's claim checks.
   */
  async mint(sub: string, scopes: string[] = [], ttlSec = 3600, overrides: { issuer?: string; audience?: string; notBefore?: number } = {}): Promise<string> {
    if (!this.keys) throw new Error('identity provider not started');
    const jwt = new SignJWT({ scope: scopes.join(' ') });
    if (overrides.notBefore !== undefined) jwt.setNotBefore(overrides.notBefore);
    return jwt
      .setProtectedHeader({ alg: ALGORITHM, kid: this.keys.jwk.kid as string, typ: 'JWT' })
      .setIssuer(overrides.issuer ?? this.options.issuer)
      .setAudience(overrides.audience ?? this.options.audience)
      .setSubject(sub)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(`${ttlSec}s`)
      .sign(this.keys.privateKey);
  }

  async start(port: number, host = '127.0.0.1'): Promise<number> {
    const { privateKey, publicKey } = await generateKeyPair(ALGORITHM);
    const jwk = { ...(await exportJWK(publicKey)), kid: randomUUID(), alg: ALGORITHM, use: 'sig' };
    this.keys = { privateKey, jwk };
    const bound = await listen(this.server, port, host);
    this.options.logger.info({ issuer: this.options.issuer }, 'dev identity provider serving');
    return bound;
  }

  async stop(): Promise<void> {
    await closeServer(this.server, 1000);
  }
}
