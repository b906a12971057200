/**
 * Opaque cursors for list endpoints: the id of the last item a page showed, tagged with the list it
 * belongs to, base64url-encoded. Clients pass them back as `after`; they never parse them.
 */
import { badRequest } from '../shared';

export function encodeCursor(list: string, lastId: string): string {
  return Buffer.from(JSON.stringify({ l: list, a: lastId })).toString('base64url');
}

export function decodeCursor(list: string, cursor: string): string {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { l?: unknown; a?: unknown };
    if (decoded.l === list && typeof decoded.a === 'string') return decoded.a;
  } catch {
    // fall through: not one of ours
  }
  throw badRequest(`"after" is not a cursor of this list; pass the "next" value of a previous page`);
}

export interface Page<T> {
  items: T[];
  /** Cursor of the next page; null on the last page. */
  next: string | null;
}

/** The page of `all` after the cursor's item (ordered lists whose ids stay put). */
export function paginate<T extends { id: string }>(list: string, all: T[], first: number, after: string | undefined): Page<T> {
  let start = 0;
  if (after !== undefined) {
    const lastId = decodeCursor(list, after);
    const index = all.findIndex((item) => item.id === lastId);
    if (index < 0) throw badRequest(`"after" points at an item that is no longer in the list; start again without it`);
    start = index + 1;
  }
  const items = all.slice(start, start + first);
  const hasMore = start + first < all.length;
  return { items, next: hasMore && items.length > 0 ? encodeCursor(list, items[items.length - 1].id) : null };
}
