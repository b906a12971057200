import { InMemoryStateStore } from '@trellis/kit/internal';
import { Inventory } from '../../../../subgraphs/catalog/inventory';
import { serveStockControl, setStock, type StockControl } from '../../../bench/gateway/stockControl';

describe("the bench's stock endpoint", () => {
  let control: StockControl;
  afterEach(() => control.close());

  it('writes a product’s available stock where the catalog reads it, its reservations kept', async () => {
    const state = new InMemoryStateStore();
    const inventory = new Inventory(state, undefined, [{ id: 'changing1', name: 'Changing Mug', price: 5, inStock: 100 }]);
    await inventory.seed();
    control = await serveStockControl(state);
    await setStock(control.url, 'changing1', 137);
    expect(await inventory.find('changing1')).toEqual({ id: 'changing1', name: 'Changing Mug', price: 5, inStock: 137 });
    expect(await inventory.stock('changing1')).toEqual({ available: 137, reserved: 0 });
  });

  it('refuses a product the catalog has no stock for', async () => {
    control = await serveStockControl(new InMemoryStateStore());
    await expect(setStock(control.url, 'nothing', 1)).rejects.toThrow(/HTTP 404 no stock for nothing/);
  });
});
