/** The hex sha256 of a text: the gateway's key for documents, plans and supergraphs (as Apollo keys them). */
import { createHash } from 'node:crypto';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
