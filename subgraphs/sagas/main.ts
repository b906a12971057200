import { serveSubgraph } from '@trellis/kit';
import { sagasSubgraph } from '.';

serveSubgraph(sagasSubgraph());
