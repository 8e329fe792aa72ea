/**
 * The value at a dotted path inside parsed JSON (`data`, `meta.next_cursor`, `result.items.0`).
 * An empty path is the value itself. Undefined when a step is missing.
 */
export function valueAt(value: unknown, path: string | undefined): unknown {
  if (!path) return value;
  let current: unknown = value;
  for (const step of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}
