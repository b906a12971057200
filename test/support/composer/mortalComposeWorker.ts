/** The real composition worker, which dies, refuses or hangs when asked to compose a subgraph so named (composer tests). */
import './dieOnRequest';
import '../../../gateway/supergraph/composeWorker';
