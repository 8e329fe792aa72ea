/**
 * A Sluice contract as an Open Data Contract Standard v3.1.0 contract (`sluice export odcs`).
 *
 * The dataset is one schema object: its columns are properties (the JSON Schema's type and
 * keywords as logicalType and logicalTypeOptions, `required` as required, uniqueness
 * expectations that came from `unique` or `primaryKey` as those flags again), its expectations
 * quality rules (odcs-quality.ts), its metadata what it kept of an imported contract. What ODCS
 * has no field for, a JSON Schema keyword or a Sluice setting (source, format, on_failure,
 * versioning, ...), goes into a custom property (`sluiceJsonSchema` on a property, `sluice` on the
 * contract): found by importing the exported contract and comparing, so only what would otherwise
 * be lost is written, and importing the export gives the same contract back.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  type Contract,
  type ExpectationConfig,
  type FormatConfig,
  isJsonDocuments,
} from '../../lambdas/shared/contract.js';
import {
  importOdcs,
  JSON_SCHEMA_EXTRAS,
  OPTIONS_AS_JSON_SCHEMA,
  SETTINGS_KEYS,
  SLUICE_SETTINGS,
  STRING_FORMATS,
  X_ODCS,
} from './odcs-import.js';
import { expectationToRule, isRecord, type Json } from './odcs-quality.js';

export interface OdcsExportOptions {
  /** The contract or dataset, named in messages. */
  where: string;
  /** The curated zone's bucket: adds an s3 server for where the dataset's promoted batches are. */
  bucket?: string;
}

/** The server an export adds for the curated zone (`--bucket`), replacing one of the same name. */
export const CURATED_SERVER = 'sluice-curated';

export function exportOdcs(contract: Contract, options: OdcsExportOptions): Json {
  const document = documentOf(contract, options);
  const again = importOdcs(structuredClone(document), { where: options.where, name: contract.name }).contract;
  keepWhatOdcsDoesNotSay(document, contract, again);
  return document;
}

function documentOf(contract: Contract, options: OdcsExportOptions): Json {
  const metadata = contract.metadata ?? {};
  const kept: Json = isRecord(metadata.odcs) ? metadata.odcs : {};
  const { object: objectKept, servers: serversKept, customProperties, ...top } = kept;
  // A contract imported from ODCS says its own id, version and status (and a name, or none).
  const document: Json = isRecord(metadata.odcs)
    ? {
        apiVersion: 'v3.1.0',
        kind: 'DataContract',
        id: uuidOf(contract.name),
        version: '1.0.0',
        status: 'active',
        ...top,
      }
    : {
        apiVersion: 'v3.1.0',
        kind: 'DataContract',
        id: uuidOf(contract.name),
        name: contract.name,
        version: '1.0.0',
        status: 'active',
      };
  const servers = Array.isArray(serversKept) ? [...serversKept] : [];
  if (options.bucket !== undefined) {
    const curated = {
      server: CURATED_SERVER,
      type: 's3',
      description:
        "The dataset's promoted batches in the curated zone of the Sluice lake, as JSON Lines under dt=…/run=…/",
      location: `s3://${options.bucket}/${contract.name}/`,
      format: 'json',
      delimiter: 'new_line',
    };
    const at = servers.findIndex((s) => isRecord(s) && s.server === CURATED_SERVER);
    if (at >= 0) servers[at] = curated;
    else servers.push(curated);
  }
  if (servers.length > 0) document.servers = servers;
  document.schema = [objectOf(contract, isRecord(objectKept) ? objectKept : {})];
  const team = metadata.team;
  if (Array.isArray(team)) document.team = team;
  else {
    const members: Json = isRecord(team) ? { ...team } : {};
    if (contract.owner !== undefined) document.team = { name: contract.owner, ...members };
    else if (Object.keys(members).length > 0) document.team = members;
  }
  if (metadata.support !== undefined) document.support = metadata.support;
  if (metadata.sla !== undefined) document.slaProperties = metadata.sla;
  if (Array.isArray(customProperties) && customProperties.length > 0)
    document.customProperties = [...customProperties];
  return document;
}

function objectOf(contract: Contract, kept: Json): Json {
  const { name, quality: texts, ...rest } = kept;
  const object: Json = { name: name ?? contract.name, ...rest };
  if (contract.description !== undefined) object.description = contract.description;
  const columns = contract.schema.properties;
  const flags = new Map<string, Json>();
  const rules = new Map<string, Json[]>(Object.keys(columns).map((c) => [c, []]));
  const objectRules: Json[] = [];
  for (const expectation of contract.expectations) {
    if (asFlags(expectation, columns, flags)) continue;
    const column = expectation.kwargs.column;
    const list = typeof column === 'string' ? rules.get(column) : undefined;
    (list ?? objectRules).push(expectationToRule(expectation));
  }
  const required = new Set(contract.schema.required ?? []);
  object.properties = Object.entries(columns).map(([column, schema]) =>
    propertyOf(column, schema, required.has(column), flags.get(column) ?? {}, rules.get(column)!),
  );
  const quality = [...objectRules, ...(Array.isArray(texts) ? texts : [])];
  if (quality.length > 0) object.quality = quality;
  return object;
}

/**
 * Writes a uniqueness expectation as the property flags it came from (`unique`, `primaryKey`),
 * or a plain one as `unique`; false when it says more than a flag can (a warning, a `mostly`,
 * the snapshot scope, a rule's id) and must stay a rule.
 */
function asFlags(
  expectation: ExpectationConfig,
  columns: Record<string, unknown>,
  flags: Map<string, Json>,
): boolean {
  const { odcs, ...gxMeta } = expectation.meta ?? {};
  if (
    expectation.severity !== 'error' ||
    expectation.scope === 'snapshot' ||
    expectation.approximate ||
    Object.keys(gxMeta).length > 0 ||
    (odcs !== undefined && !(isRecord(odcs) && Object.keys(odcs).every((k) => k === 'from')))
  ) {
    return false;
  }
  const from = isRecord(odcs) && Array.isArray(odcs.from) ? (odcs.from as string[]) : undefined;
  const keyTaken = [...flags.values()].some((f) => f.primaryKey === true);
  const kwargs = Object.keys(expectation.kwargs);
  if (expectation.type === 'expect_column_values_to_be_unique' && kwargs.length === 1) {
    const column = expectation.kwargs.column as string;
    const wanted = from ?? ['unique'];
    const flag = flags.get(column) ?? {};
    const taken =
      (wanted.includes('primaryKey') && keyTaken) || (wanted.includes('unique') && flag.unique === true);
    if (!(column in columns) || taken) return false;
    if (wanted.includes('primaryKey')) Object.assign(flag, { primaryKey: true, primaryKeyPosition: 1 });
    if (wanted.includes('unique')) flag.unique = true;
    flags.set(column, flag);
    return true;
  }
  if (
    expectation.type === 'expect_compound_columns_to_be_unique' &&
    kwargs.length === 1 &&
    from?.includes('primaryKey')
  ) {
    const list = expectation.kwargs.column_list as string[];
    if (keyTaken || !list.every((c) => c in columns)) return false;
    list.forEach((column, i) => {
      flags.set(column, { ...flags.get(column), primaryKey: true, primaryKeyPosition: i + 1 });
    });
    return true;
  }
  return false;
}

/** The logicalType a column's JSON Schema says. */
function logicalTypeOf(schema: Json): string | undefined {
  const { format } = schema;
  // A type that allows null says what ODCS says by leaving a property not required.
  const types = Array.isArray(schema.type) ? schema.type.filter((t) => t !== 'null') : [schema.type];
  const type = types.length === 1 ? types[0] : undefined;
  if (type === 'string') {
    if (format === 'date') return 'date';
    if (format === 'date-time' || format === 'iso-date-time') return 'timestamp';
    if (format === 'time' || format === 'iso-time') return 'time';
    return 'string';
  }
  return typeof type === 'string' && ['integer', 'number', 'boolean', 'object', 'array'].includes(type)
    ? type
    : undefined;
}

function propertyOf(column: string, schema: Json, required: boolean, flags: Json, rules: Json[]): Json {
  const kept: Json = isRecord(schema[X_ODCS]) ? (schema[X_ODCS] as Json) : {};
  const {
    logicalType: keptType,
    logicalTypeOptions: keptOptions,
    customProperties,
    quality: texts,
    ...rest
  } = kept;
  const property: Json = { name: column };
  const logicalType = typeof keptType === 'string' ? keptType : logicalTypeOf(schema);
  if (logicalType !== undefined) property.logicalType = logicalType;
  const options: Json = isRecord(keptOptions) ? { ...keptOptions } : {};
  for (const key of OPTIONS_AS_JSON_SCHEMA[logicalType ?? ''] ?? [])
    if (key in schema) options[key] = schema[key];
  if (logicalType === 'string' && typeof schema.format === 'string' && STRING_FORMATS.has(schema.format)) {
    options.format = schema.format;
  }
  if (Object.keys(options).length > 0) property.logicalTypeOptions = options;
  Object.assign(property, rest);
  if (schema.description !== undefined) property.description = schema.description;
  if (schema.title !== undefined) property.businessName = schema.title;
  if (schema.examples !== undefined) property.examples = schema.examples;
  if (required) property.required = true;
  Object.assign(property, flags);
  if (Array.isArray(customProperties) && customProperties.length > 0)
    property.customProperties = [...customProperties];
  const quality = [...rules, ...(Array.isArray(texts) ? texts : [])];
  if (quality.length > 0) property.quality = quality;
  return property;
}

/**
 * Adds the custom properties that carry what the ODCS fields do not say: for each column, the JSON
 * Schema keywords importing would not give back; for the contract, the Sluice settings that
 * importing would not give back (a source, a format, on_failure, versioning, ...).
 */
function keepWhatOdcsDoesNotSay(document: Json, contract: Contract, again: Contract): void {
  const object = (document.schema as Json[])[0]!;
  for (const property of object.properties as Json[]) {
    const column = property.name as string;
    const wanted = contract.schema.properties[column] ?? {};
    const got = again.schema.properties[column] ?? {};
    const extras: Json = {};
    for (const [keyword, value] of Object.entries(wanted)) {
      if (!isDeepStrictEqual(value, got[keyword])) extras[keyword] = value;
    }
    if (Object.keys(extras).length > 0) {
      const custom = Array.isArray(property.customProperties) ? property.customProperties : [];
      property.customProperties = [...custom, { property: JSON_SCHEMA_EXTRAS, value: extras }];
    }
  }
  const settings: Json = {};
  for (const key of SETTINGS_KEYS) {
    const wanted = asWritten(contract, key);
    if (!isDeepStrictEqual(wanted, asWritten(again, key))) settings[key] = wanted;
  }
  const rootExtras: Json = {};
  for (const [keyword, value] of Object.entries(contract.schema)) {
    if (keyword === 'type' || keyword === 'properties' || keyword === 'required') continue;
    if (!isDeepStrictEqual(value, again.schema[keyword])) rootExtras[keyword] = value;
  }
  if (Object.keys(rootExtras).length > 0) settings.schema = rootExtras;
  if (Object.keys(settings).length > 0) {
    const custom = Array.isArray(document.customProperties) ? document.customProperties : [];
    document.customProperties = [...custom, { property: SLUICE_SETTINGS, value: settings }];
  }
}

/** A contract setting as a contract file writes it (the loader reads `format: { type: json }` as JSON Lines documents). */
function asWritten(contract: Contract, key: (typeof SETTINGS_KEYS)[number]): unknown {
  if (key !== 'format') return contract[key];
  const format: FormatConfig = contract.format;
  if (!isJsonDocuments(format)) return format;
  const written: Json = {
    type: 'json',
    encoding: format.encoding,
    max_record_bytes: format.max_record_bytes,
  };
  if (format.documents.records_path !== undefined) written.records_path = format.documents.records_path;
  return written;
}

/** A stable id for a dataset's contract (a name-based UUID, version 5 layout): the same on every export. */
function uuidOf(name: string): string {
  const h = createHash('sha1').update(`sluice-dataset:${name}`).digest('hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
