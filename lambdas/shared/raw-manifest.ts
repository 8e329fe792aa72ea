import { MalformedInput } from './errors.js';
import type { ObjectStore } from './object-store.js';

/**
 * The raw objects of a landed batch, in batch order, as its `_manifest.json` lists them. The
 * manifest, not the execution state, carries the list: Step Functions stops a state's input or
 * output at 256 KiB, and a batch can have any number of files.
 *
 * Every ingest path writes `files: [{ key, … }]`; an upload's manifest names its one object as
 * `file`, beside the manifest.
 */
export async function readBatchKeys(store: ObjectStore, manifestKey: string): Promise<string[]> {
  const where = store.describe('raw', manifestKey);
  let manifest: { files?: Array<{ key?: unknown }>; file?: unknown };
  try {
    manifest = JSON.parse(await store.readText('raw', manifestKey)) as typeof manifest;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new MalformedInput(`${where}: the raw manifest is not valid JSON: ${error.message}`, {
      cause: error,
    });
  }
  if (Array.isArray(manifest.files)) {
    return manifest.files.map((file, i) => {
      if (typeof file?.key !== 'string' || file.key === '') {
        throw new MalformedInput(`${where}: files[${i}] has no key; expected the raw key of each file`);
      }
      return file.key;
    });
  }
  if (typeof manifest.file === 'string' && manifest.file !== '') {
    return [`${manifestKey.slice(0, manifestKey.lastIndexOf('/') + 1)}${manifest.file}`];
  }
  throw new MalformedInput(`${where}: expected 'files' (a list of { key }) or 'file' naming the raw object`);
}
