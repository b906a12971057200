/** Liveness and readiness endpoints shared by every Trellis HTTP process. */
import type { Express } from 'express';

export function mountHealth(app: Express, isReady: () => boolean, details?: () => Record<string, unknown>): void {
  app.get('/health/live', (_req, res) => {
    res.json({ status: 'live' });
  });
  app.get('/health/ready', (_req, res) => {
    const ready = isReady();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', ...(details?.() ?? {}) });
  });
}
