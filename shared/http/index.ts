export { mountHealth } from './health';
export { listen, closeServer } from './listen';
