/** The orders CSV that bench:validate and bench:curated read. */
import { openSync, writeSync } from 'node:fs';
import { random } from '../test/support/random.js';

/**
 * Writes `count` rows of the orders export the benches share (bench/orders-suite.ts's 8 columns)
 * to `file`: about 3% of rows carry one problem each, 0.2% repeat the id of the row before. The
 * same seed every time, so every bench reads the same file for the same arguments.
 */
export function generateOrdersCsv(file: string, count: number, ids: string | undefined = 'sorted'): void {
  const next = random(42);
  const statuses = ['pending', 'paid', 'shipped', 'cancelled'];
  const fd = openSync(file, 'w');
  let batch = 'order_id,customer_id,amount,quantity,status,email,created_at,discount\n';
  const numbers = orderIds(count, ids, next);
  for (let i = 0; i < count; i++) {
    const r = next();
    // About 3% of rows carry one problem each; 0.2% repeat the id of the row before.
    const orderId = `ORD-${String(r < 0.002 && i > 0 ? numbers[i - 1]! : numbers[i]!).padStart(9, '0')}`;
    const customer = r >= 0.002 && r < 0.005 ? '' : `C${Math.floor(next() * 50000)}`;
    const amount = r >= 0.005 && r < 0.015 ? `-${(next() * 100).toFixed(2)}` : (next() * 5000).toFixed(2);
    const quantity = r >= 0.015 && r < 0.017 ? 'many' : String(1 + Math.floor(next() * 20));
    const status = r >= 0.017 && r < 0.022 ? 'lost' : statuses[Math.floor(next() * 4)];
    const email = r >= 0.022 && r < 0.027 ? 'nobody-at-example' : `user${i % 100000}@example.com`;
    const created = `2026-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`;
    const discount = r >= 0.5 ? '' : (next() * 0.3).toFixed(2);
    batch += `${orderId},${customer},${amount},${quantity},${status},${email},${created},${discount}\n`;
    if (batch.length > 1 << 20) {
      writeSync(fd, batch);
      batch = '';
    }
  }
  writeSync(fd, batch);
}

/** The number in each row's order id: 0, 1, 2, … or the same numbers shuffled. */
function orderIds(count: number, order: string | undefined, next: () => number): Uint32Array {
  if (order !== 'sorted' && order !== 'shuffled') throw new Error(`--ids: sorted or shuffled, not ${order}`);
  const ids = new Uint32Array(count);
  for (let i = 0; i < count; i++) ids[i] = i;
  if (order === 'shuffled') {
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      const swap = ids[i]!;
      ids[i] = ids[j]!;
      ids[j] = swap;
    }
  }
  return ids;
}
