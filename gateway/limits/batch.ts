/**
 * Caps the operations in one batched request (a JSON array body) before Apollo Server runs any
 * of them: Apollo Server runs a batch's operations in parallel and has no cap of its own.
 */
import type { RequestHandler } from 'express';
import { LimitCode, LimitExceededError } from './errors';

export function batchLimit(maxBatch: number): RequestHandler {
  return (req, res, next) => {
    const body: unknown = req.body;
    if (!Array.isArray(body) || body.length <= maxBatch) return next();
    const error = new LimitExceededError(LimitCode.BATCH_TOO_LARGE, `batch of ${body.length} operations exceeds the limit of ${maxBatch}`, body.length, maxBatch);
    res.status(400).json({ errors: [{ message: error.message, extensions: { code: error.code, measured: error.measured, limit: error.limit } }] });
  };
}
