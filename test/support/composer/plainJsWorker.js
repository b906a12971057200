// A composition worker in plain JavaScript, as the compiled build runs one (no tsx): answers every
// request with the subgraph names it was sent, all refused.
const { parentPort } = require('node:worker_threads');

parentPort.on('message', ({ id, candidates, trusted }) => {
  parentPort.postMessage({ id, result: { refused: candidates.map(({ name }) => ({ name, errors: [`trusted: ${trusted.join(',')}`] })) } });
});
