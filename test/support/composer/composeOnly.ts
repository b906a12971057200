/**
 * A process whose only work is two compositions at once on a WorkerComposer that keeps an idle
 * worker a minute: it must print both answers, then exit at once rather than wait for the worker.
 */
import { WorkerComposer } from '../../../gateway/supergraph/composer';
import { typeDefs as users } from '../../../subgraphs/users';
import { typeDefs as catalog } from '../../../subgraphs/catalog';

const composer = new WorkerComposer({ idleMs: 60_000 });
const source = (name: string, sdl: string) => ({ name, url: `http://${name}.test/graphql`, sdl });
void Promise.all([composer.compose([source('users', users)], new Set()), composer.compose([source('users', users), source('catalog', catalog)], new Set())]).then((results) =>
  process.stdout.write(`${results.map((result) => (result.composition ? result.composition.subgraphs.map((s) => s.name).join('+') : 'none')).join(' ')}\n`),
);
