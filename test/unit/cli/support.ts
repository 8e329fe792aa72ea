import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:SluicePipeline';

/** A datasets directory with one scheduled contract (hourly) and one upload contract. */
export function datasetsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
  const schema = 'schema: { type: object, properties: { id: { type: integer } } }';
  writeFileSync(
    join(dir, 'shop-orders.yaml'),
    [
      'name: shop-orders',
      'source: { type: http, url: "http://127.0.0.1/x" }',
      'format: { type: jsonl }',
      'schedule: rate(1 hour)',
      schema,
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'uploads.yaml'),
    [
      'name: uploads',
      'source: { type: s3-upload, prefix: landing/uploads/ }',
      'format: { type: csv }',
      schema,
    ].join('\n'),
  );
  return dir;
}

export function lines(): { out: (line: string) => void; text: () => string } {
  const collected: string[] = [];
  return { out: (line) => collected.push(line), text: () => collected.join('\n') };
}
