import { serveSubgraph } from '@trellis/kit';
import { usersSubgraph } from '.';

serveSubgraph(usersSubgraph);
