/** Whom a request is counted against: the verified identity when there is one, else the client address. */
export function clientKey(userId: string | undefined, address: string | undefined): string {
  return userId ? `user:${userId}` : `ip:${address ?? 'unknown'}`;
}
