import { InstanceDirectory } from '../../../../gateway/supergraph/instances';
import type { ServiceInstance } from '@trellis/kit';

const instance = (name: string, id: string, healthy = true): ServiceInstance => ({ id, name, url: `http://${id}.test/graphql`, meta: {}, healthy });

describe('InstanceDirectory', () => {
  it('groups instances by subgraph and sends traffic only to the healthy ones', () => {
    const directory = new InstanceDirectory();
    directory.replace([instance('users', 'u1'), instance('catalog', 'c1'), instance('users', 'u2', false), instance('users', 'u3')]);
    expect(directory.instancesOf('users').map((i) => i.id)).toEqual(['u1', 'u3']);
    expect(directory.registeredOf('users').map((i) => i.id)).toEqual(['u1', 'u2', 'u3']);
    expect(directory.instancesOf('catalog').map((i) => i.id)).toEqual(['c1']);
    expect(directory.all().map((i) => i.id)).toEqual(['u1', 'u2', 'u3', 'c1']);
  });

  it('lists every registered subgraph by name, sorted, even one with no healthy instance', () => {
    const directory = new InstanceDirectory();
    directory.replace([instance('users', 'u1'), instance('catalog', 'c1', false)]);
    expect(directory.names()).toEqual(['catalog', 'users']);
    expect(directory.instancesOf('catalog')).toEqual([]);
  });

  it('knows nothing of a subgraph it never saw', () => {
    const directory = new InstanceDirectory();
    expect(directory.instancesOf('ghost')).toEqual([]);
    expect(directory.registeredOf('ghost')).toEqual([]);
    expect(directory.names()).toEqual([]);
    expect(directory.all()).toEqual([]);
  });

  it('replaces the whole set on each change, and tells its listeners with the new set', () => {
    const directory = new InstanceDirectory();
    const changes: ServiceInstance[][] = [];
    directory.on('change', (instances: ServiceInstance[]) => changes.push(instances));
    directory.replace([instance('users', 'u1'), instance('catalog', 'c1')]);
    const next = [instance('users', 'u2')];
    directory.replace(next);
    expect(directory.names()).toEqual(['users']);
    expect(directory.registeredOf('users').map((i) => i.id)).toEqual(['u2']);
    expect(directory.registeredOf('catalog')).toEqual([]);
    expect(changes).toHaveLength(2);
    expect(changes[1]).toBe(next);
  });
});
