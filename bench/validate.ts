/**
 * Validation throughput: generates a CSV of N rows × 8 columns (a few percent deliberately bad),
 * validates it from disk through `validateStream` with a 12-entry suite (the schema,
 * not_null ×3, unique, between ×2, in_set, match_regex, value_lengths_between, mean_between, row count), writes the outputs to
 * files, and prints rows/s, MB/s, peak RSS and the row counts.
 *
 *   node --expose-gc --import tsx bench/validate.ts [--rows N] [--chunk BYTES] [--reference] [--keep]
 *
 * --reference also times papaparse reading the same file and doing nothing else (NOTES.md:
 * ~1.5M rows/s on the reference machine), to scale the figures on a slower or busier machine.
 */
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import Papa from 'papaparse';
import { parseContract } from '../lambdas/shared/contract.js';
import { validateStream } from '../lambdas/validate/engine.js';
import { random } from '../test/support/random.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    chunk: { type: 'string', default: String(64 * 1024) },
    keep: { type: 'boolean', default: false },
    reference: { type: 'boolean', default: false },
  },
});
const rows = Number(args.rows);
const chunkSize = Number(args.chunk);

const contract = parseContract(
  `
name: bench-orders
source: { type: s3-upload, prefix: landing/bench-orders/ }
format: { type: csv }
schema:
  type: object
  required: [order_id, customer_id, amount, quantity, status]
  properties:
    order_id: { type: string }
    customer_id: { type: string }
    amount: { type: number }
    quantity: { type: integer }
    status: { type: string }
    email: { type: string }
    created_at: { type: string }
    discount: { type: [number, "null"] }
expectations:
  - type: expect_column_values_to_not_be_null
    kwargs: { column: order_id }
  - type: expect_column_values_to_not_be_null
    kwargs: { column: customer_id }
  - type: expect_column_values_to_not_be_null
    kwargs: { column: amount }
  - type: expect_column_values_to_be_unique
    kwargs: { column: order_id }
  - type: expect_column_values_to_be_between
    kwargs: { column: amount, min_value: 0, max_value: 100000 }
  - type: expect_column_values_to_be_between
    kwargs: { column: quantity, min_value: 1, max_value: 100, mostly: 0.95 }
  - type: expect_column_values_to_be_in_set
    kwargs: { column: status, value_set: [pending, paid, shipped, cancelled] }
  - type: expect_column_values_to_match_regex
    kwargs: { column: email, regex: "^[^@\\\\s]+@[^@\\\\s]+\\\\.[a-z]{2,}$" }
  - type: expect_column_value_lengths_to_be_between
    kwargs: { column: customer_id, min_value: 2, max_value: 6 }
  - type: expect_column_mean_to_be_between
    kwargs: { column: amount, min_value: 2000, max_value: 3000 }
  - type: expect_table_row_count_to_be_between
    kwargs: { min_value: 1, max_value: 100000000 }
on_failure: quarantine
`,
  '<inline>',
);

function generate(file: string, count: number): void {
  const next = random(42);
  const statuses = ['pending', 'paid', 'shipped', 'cancelled'];
  const fd = openSync(file, 'w');
  let batch = 'order_id,customer_id,amount,quantity,status,email,created_at,discount\n';
  for (let i = 0; i < count; i++) {
    const r = next();
    // About 3% of rows carry one problem each.
    const orderId =
      r < 0.002 && i > 0 ? `ORD-${String(i - 1).padStart(9, '0')}` : `ORD-${String(i).padStart(9, '0')}`;
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

const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
const input = join(dir, 'orders.csv');
try {
  let started = performance.now();
  generate(input, rows);
  const bytes = statSync(input).size;
  console.log(
    `generated ${rows.toLocaleString('en')} rows, ${(bytes / 1e6).toFixed(1)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  globalThis.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);

  const valid = createWriteStream(join(dir, 'valid.jsonl'));
  const quarantine = createWriteStream(join(dir, 'quarantine.jsonl'));
  started = performance.now();
  const cpuBefore = process.cpuUsage();
  const outcome = await validateStream(
    createReadStream(input, { highWaterMark: chunkSize }),
    contract,
    { valid, quarantine },
    { source: input },
  );
  valid.end();
  quarantine.end();
  await Promise.all([finished(valid), finished(quarantine)]);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);

  const mb = (n: number) => (n / 1024 / 1024).toFixed(0);
  console.log(`validated in ${seconds.toFixed(2)} s (node ${process.version}, chunk ${chunkSize} bytes)`);
  console.log(
    `  ${Math.round(outcome.rows.read / seconds).toLocaleString('en')} rows/s` +
      ` (${Math.round(outcome.rows.read / cpuSeconds).toLocaleString('en')} per CPU-second: ${cpuSeconds.toFixed(2)} s CPU)`,
  );
  console.log(`  ${(bytes / 1e6 / seconds).toFixed(1)} MB/s`);
  console.log(`  peak RSS ${mb(peak)} MiB (baseline before validating ${mb(baseline)} MiB)`);
  console.log(
    `  rows read ${outcome.rows.read}, valid ${outcome.rows.valid}, quarantined ${outcome.rows.quarantined}`,
  );
  console.log(
    `  expectations ${outcome.result.statistics.successful_expectations}/${outcome.result.statistics.evaluated_expectations} passed; promote: ${outcome.decision.promote}`,
  );
  for (const reason of outcome.decision.reasons) console.log(`    ${reason}`);

  if (args.reference) {
    const before = process.cpuUsage();
    let parsed = 0;
    await new Promise<void>((resolve, reject) => {
      Papa.parse(createReadStream(input, { highWaterMark: chunkSize }), {
        step: () => {
          parsed++;
        },
        complete: () => resolve(),
        error: reject,
      });
    });
    const used = process.cpuUsage(before);
    const referenceSeconds = (used.user + used.system) / 1e6;
    console.log(
      `reference: papaparse parse only, ${Math.round(parsed / referenceSeconds).toLocaleString('en')} rows per CPU-second`,
    );
  }
} finally {
  if (args.keep) console.log(`files kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
