/** Where `TRELLIS_REPLICAS=N npm start` puts each replica, and the N it refuses because a port would pass 65535. */
import { ConfigError } from '@trellis/kit';
import { replicaPorts } from '../../../../scripts/launcher/replicas';
import { EDGE, GATEWAY, SUBGRAPHS } from '../../../../scripts/launcher/services';

const SERVICES = [...SUBGRAPHS, GATEWAY, ...EDGE];

describe('replicaPorts', () => {
  it("puts replica k on the first one's ports plus 10000·k, its gateway's admin listener and URL too", () => {
    const [first, second, third] = replicaPorts({ portBase: 4000, replicas: 3, adminPort: 4700 }, SERVICES);
    expect(SERVICES.map((spec) => [first.port(spec), second.port(spec), third.port(spec)])).toEqual([
      [4001, 14001, 24001],
      [4002, 14002, 24002],
      [4003, 14003, 24003],
      [4004, 14004, 24004],
      [4005, 14005, 24005],
      [4000, 14000, 24000],
      [4100, 14100, 24100],
      [4200, 14200, 24200],
    ]);
    expect([first, second, third].map((replica) => [replica.index, replica.adminPort, replica.gatewayUrl])).toEqual([
      [0, 4700, 'http://127.0.0.1:4000/graphql'],
      [1, 14700, 'http://127.0.0.1:14000/graphql'],
      [2, 24700, 'http://127.0.0.1:24000/graphql'],
    ]);
  });

  it('leaves ADMIN_PORT=0 (a free port for each gateway) at 0 in every replica', () => {
    expect(replicaPorts({ portBase: 4000, replicas: 3, adminPort: 0 }, SERVICES).map((replica) => replica.adminPort)).toEqual([0, 0, 0]);
  });

  it('takes as many replicas as fit below 65536, and refuses one more, naming TRELLIS_REPLICAS and the port', () => {
    // 4700 + 10000·6 = 64700: seven fit on the default ports.
    expect(replicaPorts({ portBase: 4000, replicas: 7, adminPort: 4700 }, SERVICES).at(-1)!.adminPort).toBe(64_700);
    const refuse = () => replicaPorts({ portBase: 4000, replicas: 8, adminPort: 4700 }, SERVICES);
    expect(refuse).toThrow(ConfigError);
    expect(refuse).toThrow('TRELLIS_REPLICAS=8: replica 8 would listen on port 74700');
    expect(refuse).toThrow('at most 7 with these ports');
    // The highest port decides, whichever it is: an ADMIN_PORT of 9000, or a base whose BFF sits highest.
    expect(() => replicaPorts({ portBase: 4000, replicas: 7, adminPort: 9000 }, SERVICES)).toThrow('TRELLIS_REPLICAS=7: replica 7 would listen on port 69000');
    expect(replicaPorts({ portBase: 4000, replicas: 6, adminPort: 9000 }, SERVICES)).toHaveLength(6);
    expect(() => replicaPorts({ portBase: 5400, replicas: 7, adminPort: 1100 }, SERVICES)).toThrow('port 65600');
    expect(replicaPorts({ portBase: 5300, replicas: 7, adminPort: 1100 }, SERVICES).at(-1)!.port(EDGE[1])).toBe(65_500);
    expect(replicaPorts({ portBase: 64000, replicas: 1, adminPort: 64700 }, SERVICES)).toHaveLength(1);
    expect(() => replicaPorts({ portBase: 64000, replicas: 2, adminPort: 64700 }, SERVICES)).toThrow('at most 1 with these ports');
  });
});
