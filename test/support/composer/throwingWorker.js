// A composition worker that throws on every request, outside any handler: the worker's 'error'.
const { parentPort } = require('node:worker_threads');

parentPort.on('message', () => {
  throw new Error('thrown in the worker');
});
