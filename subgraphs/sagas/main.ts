import { serveSubgraph } from '../../shared';
import { sagasSubgraph } from '.';

serveSubgraph(sagasSubgraph());
