/**
 * SQL text for `sluice query`: quoting, and the one form Sluice adds to DuckDB's SQL,
 * `<dataset> AT '<tag>'`, which reads a DVC version of the dataset's curated snapshot. The form is
 * rewritten before DuckDB sees the text, into the name of a view over that version; a small lexer
 * finds it, so that the same words inside a string, a quoted name or a comment are left alone.
 */
import { ConfigurationError } from '../../lambdas/shared/errors.js';

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A name as a person writes it in SQL: quoted only when it needs to be (`"shop-orders"`). */
export function sqlName(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : quoteIdentifier(name);
}

export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

interface Token {
  kind: 'word' | 'quoted' | 'string' | 'space' | 'other';
  start: number;
  end: number;
  /** A word as written, a quoted name or a string literal unquoted. */
  value: string;
}

/** DuckDB's lexical structure, as far as telling names, strings and comments apart needs. */
function tokens(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const closing = (quote: string, from: number): number => {
    let j = from;
    for (;;) {
      const at = sql.indexOf(quote, j);
      if (at < 0) return sql.length;
      if (sql.startsWith(quote + quote, at)) j = at + 2;
      else return at + 1;
    }
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const start = i;
    if (/\s/.test(c)) {
      while (i < sql.length && /\s/.test(sql[i]!)) i++;
      out.push({ kind: 'space', start, end: i, value: '' });
    } else if (sql.startsWith('--', i)) {
      const eol = sql.indexOf('\n', i);
      i = eol < 0 ? sql.length : eol;
      out.push({ kind: 'space', start, end: i, value: '' });
    } else if (sql.startsWith('/*', i)) {
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? sql.length : close + 2;
      out.push({ kind: 'space', start, end: i, value: '' });
    } else if (c === "'" || c === '"') {
      i = closing(c, i + 1);
      const value = sql.slice(start + 1, i - 1).replaceAll(c + c, c);
      out.push({ kind: c === "'" ? 'string' : 'quoted', start, end: i, value });
    } else if (c === '$' && /^\$[A-Za-z_]*\$/.test(sql.slice(i))) {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))![0];
      const close = sql.indexOf(tag, i + tag.length);
      i = close < 0 ? sql.length : close + tag.length;
      out.push({ kind: 'string', start, end: i, value: sql.slice(start + tag.length, i - tag.length) });
    } else if (/[A-Za-z_]/.test(c)) {
      while (i < sql.length && /[A-Za-z0-9_$]/.test(sql[i]!)) i++;
      out.push({ kind: 'word', start, end: i, value: sql.slice(start, i) });
    } else {
      i++;
      out.push({ kind: 'other', start, end: i, value: c });
    }
  }
  return out;
}

/** What a name in the SQL is to Sluice: a dataset's curated view, another of its views, or neither. */
export type ViewKind = { kind: 'curated'; dataset: string } | { kind: 'other'; dataset: string } | undefined;

export interface VersionReference {
  dataset: string;
  tag: string;
  /** The view the reference was rewritten into. */
  view: string;
}

/**
 * Rewrites each `<dataset> AT '<tag>'` into the versioned view's name (the tag, quoted). A name
 * that is no dataset's view is left as written (DuckDB then reports it), unless the tag is one of
 * its versions (an unknown dataset); a tag of another dataset, or `AT` after a quarantine or runs
 * view, is refused: a version holds the curated snapshot only.
 */
export function rewriteVersionReferences(
  sql: string,
  viewKind: (name: string) => ViewKind,
): { sql: string; references: VersionReference[] } {
  const all = tokens(sql);
  const significant = all.filter((t) => t.kind !== 'space');
  const references: VersionReference[] = [];
  let text = '';
  let copied = 0;
  for (let n = 0; n + 2 < significant.length; n++) {
    const [name, at, tag] = [significant[n]!, significant[n + 1]!, significant[n + 2]!];
    if (name.kind !== 'word' && name.kind !== 'quoted') continue;
    if (at.kind !== 'word' || at.value.toLowerCase() !== 'at' || tag.kind !== 'string') continue;
    const written = name.kind === 'word' ? name.value.toLowerCase() : name.value;
    const view = viewKind(written);
    const where = sql.slice(name.start, tag.end);
    if (!view && tag.value.startsWith(`${written}@`)) {
      throw new ConfigurationError(
        `${where}: no dataset '${written}': no contract in --datasets names it; expected a dataset that 'sluice check' lists`,
      );
    }
    if (!view) continue;
    if (view.kind !== 'curated') {
      throw new ConfigurationError(
        `${where}: a version holds a dataset's curated snapshot only; expected ${sqlName(view.dataset)} AT '<tag>'`,
      );
    }
    if (!tag.value.startsWith(`${view.dataset}@`)) {
      throw new ConfigurationError(
        `${where}: '${tag.value}' is not a version of '${view.dataset}'; expected a tag '${view.dataset}@…', as 'sluice versions ${view.dataset}' lists`,
      );
    }
    const reference = { dataset: view.dataset, tag: tag.value, view: tag.value };
    references.push(reference);
    text += sql.slice(copied, name.start) + quoteIdentifier(reference.view);
    copied = tag.end;
    n += 2;
  }
  return { sql: text + sql.slice(copied), references };
}
