/** The query mix: one query per shape of federation work, each with the data every target must return. */
export interface BenchQuery {
  name: string;
  /** Subgraphs the gateway has to call. */
  subgraphs: string[];
  query: string;
  /** Cheap check on every response under load (the full answer is compared before the load). */
  marker: string;
}

export const QUERIES: BenchQuery[] = [
  {
    name: 'products',
    subgraphs: ['catalog'],
    query: '{ products(first: 5) { id name price inStock } }',
    marker: '"Federation Hoodie"',
  },
  {
    name: 'user+orders',
    subgraphs: ['users', 'orders'],
    query: '{ user(id: "u1") { name email orders { id total status } } }',
    marker: '"SHIPPED"',
  },
  {
    name: 'four-subgraph',
    subgraphs: ['users', 'orders', 'catalog', 'payments'],
    query: '{ user(id: "u1") { name orders { total status items { quantity product { name inStock } } payment { state } } } }',
    marker: '"CAPTURED"',
  },
];
