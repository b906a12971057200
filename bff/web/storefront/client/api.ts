/** The web BFF's JSON API, same origin, with the session cookie. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Product {
  id: string;
  name: string;
  price: number;
  inStock: number;
}
export interface Order {
  id: string;
  total: number;
  status: string;
  paymentState: string | null;
  items: Array<{ quantity: number; product: Product | null }>;
}
/** What the BFF says about the parts of a page it could not get. */
export interface PartialError {
  path?: string;
  code?: string;
  message: string;
}
export interface Partial {
  partial?: boolean;
  errors?: PartialError[];
}
export interface HomePage extends Partial {
  user: { id: string; name: string; email: string | null } | null;
  recentOrders: Order[];
  featured: Product[] | null;
}
export interface OrdersPage extends Partial {
  orders: Order[];
  count: number;
}
export interface Session {
  user: { id: string; scopes: string[] } | null;
}
export interface SagaStatus {
  id: string;
  state: string;
  steps: Array<{ name: string; state: string; attempts: number; error: string | null }>;
  order: { id: string; status: string; total: number } | null;
}

async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const json = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (!response.ok)
    throw new ApiError(response.status, json.error?.code ?? 'ERROR', json.error?.message ?? `HTTP ${response.status}`);
  return json as T;
}

export const api = {
  session: () => call<Session>('GET', '/api/session'),
  signIn: (userId: string) => call<Session>('POST', '/api/session/dev', { userId }),
  signOut: () => call<void>('DELETE', '/api/session'),
  home: () => call<HomePage>('GET', '/api/pages/home'),
  orders: () => call<OrdersPage>('GET', '/api/pages/orders'),
  placeOrder: (productId: string, quantity: number, paymentMethod: string) =>
    call<{ sagaId: string; state: string }>(
      'POST',
      '/api/orders',
      { items: [{ productId, quantity }], paymentMethod },
      { 'idempotency-key': crypto.randomUUID() },
    ),
};
