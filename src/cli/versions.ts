import { resolve } from 'node:path';
import { checkoutVersion, listVersions } from '../local/versions.js';
import { type LakeOptions, openLake } from './lake.js';
import { table, terminalWidth } from './table.js';

export async function versionsCommand(
  dataset: string,
  options: LakeOptions & { json?: boolean },
): Promise<number> {
  const { versioning } = await openLake(options);
  const versions = listVersions(versioning, dataset);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(versions, null, 2)}\n`);
    return 0;
  }
  if (versions.length === 0) {
    process.stdout.write(`no versions of '${dataset}' in ${versioning.gitRemote}\n`);
    return 0;
  }
  const rows = versions.map((v) => [
    v.tag,
    v.date,
    v.rows === undefined ? '' : v.rows.toLocaleString('en-US'),
    v.size === undefined ? '' : `${(v.size / 1024).toFixed(1)} KiB`,
    v.md5 ?? '',
    v.validation ?? '',
  ]);
  // The tag stays whole: it is what `sluice checkout` takes.
  const text = table(['Tag', 'Date', 'Rows', 'Size', 'DVC md5', 'Validation'], rows, terminalWidth(), {
    keep: [0],
  });
  process.stdout.write(`${text}\n`);
  return 0;
}

export async function checkoutCommand(tag: string, dir: string, options: LakeOptions): Promise<number> {
  const { versioning } = await openLake(options);
  const result = checkoutVersion(versioning, tag, resolve(dir));
  process.stdout.write(
    `restored ${tag} into ${result.dir}: ${result.files} file${result.files === 1 ? '' : 's'}, each matching dvc md5 ${result.md5}\n` +
      `(a git checkout of the dataset repository; 'dvc pull' there restores it again)\n`,
  );
  return 0;
}
