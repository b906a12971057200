/** A free TCP port on loopback, for servers the tests and benchmarks start (the kit's, as a subgraph team's tests use it). */
export { freePort } from '@trellis/kit/testing';
