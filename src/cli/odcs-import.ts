import type { Contract } from '../../lambdas/shared/contract.js';
import { ConfigurationError, OdcsUnsupported } from '../../lambdas/shared/errors.js';
import { loadImported } from './interop-io.js';
import { isRecord, type Json, ruleToExpectation } from './odcs-quality.js';
import { nameFrom } from './suggest.js';

/** The top-level custom property holding the Sluice settings ODCS has no place for (source, format, ...). */
export const SLUICE_SETTINGS = 'sluice';
/** A property's custom property holding JSON Schema keywords its ODCS fields do not say. */
export const JSON_SCHEMA_EXTRAS = 'sluiceJsonSchema';
/** The annotation keyword of a column's JSON Schema that keeps the property's other ODCS fields. */
export const X_ODCS = 'x-odcs';
/** Contract keys the Sluice settings custom property may set. */
export const SETTINGS_KEYS = [
  'source',
  'format',
  'schedule',
  'partition',
  'on_failure',
  'batches',
  'version',
] as const;

export interface OdcsImportOptions {
  /** The file, named in messages. */
  where: string;
  /** The schema object to import, by name; required when the contract has several. */
  object?: string;
  /** The dataset name; by default the object's name, made a dataset name. */
  name?: string;
}

export interface ImportedOdcs {
  /** The contract as YAML, accepted by `sluice check`. */
  yaml: string;
  contract: Contract;
  /** What was kept without being run, or chosen without being asked, to tell the user. */
  notes: string[];
}

/** The JSON Schema of each logicalType; timestamps and times may leave out their offset (UTC, as ODCS says). */
export const JSON_SCHEMA_OF_LOGICAL_TYPE: Readonly<Record<string, Json>> = {
  string: { type: 'string' },
  integer: { type: 'integer' },
  number: { type: 'number' },
  boolean: { type: 'boolean' },
  object: { type: 'object' },
  array: { type: 'array' },
  date: { type: 'string', format: 'date' },
  timestamp: { type: 'string', format: 'iso-date-time' },
  time: { type: 'string', format: 'iso-time' },
};

/** logicalTypeOptions that are JSON Schema keywords of the same meaning, per logicalType. */
export const OPTIONS_AS_JSON_SCHEMA: Readonly<Record<string, readonly string[]>> = {
  string: ['minLength', 'maxLength', 'pattern'],
  integer: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  number: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  array: ['minItems', 'maxItems', 'uniqueItems'],
  object: ['minProperties', 'maxProperties', 'required'],
};

/** String formats the contract's JSON Schema checks (ajv-formats). */
export const STRING_FORMATS = new Set([
  'email',
  'uuid',
  'uri',
  'uri-reference',
  'url',
  'hostname',
  'ipv4',
  'ipv6',
  'duration',
  'regex',
  'byte',
  'date',
  'time',
  'date-time',
  'iso-time',
  'iso-date-time',
]);

/** Java date patterns that write ISO dates and times, which the JSON Schema formats above read. */
const ISO_PATTERN = /^(yyyy-MM-dd)?(('T'| )?HH:mm:ss(\.S+)?)?('?(Z|X{1,3}|x{1,3})'?)?$/;

export function importOdcs(document: unknown, options: OdcsImportOptions): ImportedOdcs {
  const { where } = options;
  if (!isRecord(document) || (document.schema !== undefined && !Array.isArray(document.schema))) {
    throw new OdcsUnsupported(
      `${where}: not an ODCS data contract: expected a YAML or JSON object with kind: DataContract, ` +
        'apiVersion, id, status and a schema list of objects',
    );
  }
  if (document.kind !== undefined && document.kind !== 'DataContract') {
    throw new OdcsUnsupported(`${where}: kind ${JSON.stringify(document.kind)}: expected DataContract`);
  }
  if (typeof document.apiVersion === 'string' && !/^v3\./.test(document.apiVersion)) {
    throw new OdcsUnsupported(
      `${where}: apiVersion ${document.apiVersion}: Sluice reads ODCS v3 (v3.0.x and v3.1.0) contracts`,
    );
  }
  const objects = (document.schema ?? []) as unknown[];
  const index = objectIndex(objects, options);
  const at = `schema[${index}]`;
  const object = objects[index];
  if (!isRecord(object) || typeof object.name !== 'string') {
    throw refusal(where, [`${at}: expected a schema object with a name and properties`]);
  }
  const name = options.name ?? nameFrom(object.name);
  const notes: string[] = [];
  const problems: string[] = [];
  const expectations: Json[] = [];
  /** The ODCS position each expectation came from, for the loader's problems. */
  const positions: string[] = [];
  const add = (expectation: Json, position: string) => {
    expectations.push(expectation);
    positions.push(position);
  };
  const rule = (entry: unknown, position: string, column: string | undefined, texts: Json[]) => {
    if (!isRecord(entry)) {
      problems.push(`${position}: expected a quality rule (an object)`);
      return;
    }
    const result = ruleToExpectation(entry, column);
    if (result === undefined) {
      texts.push(entry);
      notes.push(`${position}: a text rule, kept in the contract's metadata; it is not run`);
    } else if ('problem' in result) problems.push(`${position}: ${result.problem}`);
    else add(result.expectation, position);
  };

  const properties: Record<string, Json> = {};
  const required: string[] = [];
  const columnPositions = new Map<string, string>();
  const list = Array.isArray(object.properties) ? object.properties : [];
  if (list.length === 0) {
    throw refusal(where, [`${at}.properties: none: a Sluice record schema needs at least one column`]);
  }
  const keys = list.filter((p) => isRecord(p) && p.primaryKey === true) as Json[];
  list.forEach((property, i) => {
    const position = `${at}.properties[${i}]`;
    if (!isRecord(property) || typeof property.name !== 'string') {
      problems.push(`${position}: expected a property with a name`);
      return;
    }
    const column = property.name;
    if (column in properties) problems.push(`${position}: a second property named '${column}'`);
    columnPositions.set(column, position);
    const from: string[] = [];
    if (keys.length === 1 && property.primaryKey === true) from.push('primaryKey');
    if (property.unique === true) from.push('unique');
    if (from.length > 0) {
      add(
        { type: 'expect_column_values_to_be_unique', kwargs: { column }, meta: { odcs: { from } } },
        position,
      );
    }
    const texts: Json[] = [];
    const rules = Array.isArray(property.quality) ? property.quality : [];
    rules.forEach((entry, j) => {
      rule(entry, `${position}.quality[${j}]`, column, texts);
    });
    properties[column] = propertySchema(property, texts, position, problems, notes);
    if (property.required === true) required.push(column);
  });
  if (keys.length > 1) {
    const order = (p: Json) =>
      typeof p.primaryKeyPosition === 'number' && p.primaryKeyPosition > 0 ? p.primaryKeyPosition : Infinity;
    const columns = keys
      .map((p, i) => ({ p, i }))
      .sort((a, b) => order(a.p) - order(b.p) || a.i - b.i)
      .map(({ p }) => p.name);
    add(
      {
        type: 'expect_compound_columns_to_be_unique',
        kwargs: { column_list: columns },
        meta: { odcs: { from: ['primaryKey'] } },
      },
      `${at}.properties (primaryKey)`,
    );
  }
  const objectTexts: Json[] = [];
  const objectRules = Array.isArray(object.quality) ? object.quality : [];
  objectRules.forEach((entry, k) => {
    rule(entry, `${at}.quality[${k}]`, undefined, objectTexts);
  });

  const { contract, settings } = contractOf(document, object, objectTexts, name, notes);
  const schema: Json = { type: 'object', properties };
  if (required.length > 0) schema.required = required;
  Object.assign(schema, isRecord(settings.schema) ? settings.schema : {});
  Object.assign(contract, { schema, expectations }, withoutSchema(settings));
  orderKeys(contract);

  const loaded = loadImported(
    contract,
    problems,
    (all, options) => refusal(where, all, options),
    (message) => [...problems, ...loaderProblems(message, positions, columnPositions)],
  );
  return { ...loaded, notes };
}

/** Which schema object to import: the one named, or the only one. */
function objectIndex(objects: unknown[], options: OdcsImportOptions): number {
  const names = objects.map((o) => (isRecord(o) ? String(o.name) : '?'));
  if (objects.length === 0) {
    throw new OdcsUnsupported(
      `${options.where}: the contract has no schema object: a Sluice dataset is the records of one object (schema: [{ name, properties }])`,
    );
  }
  if (options.object !== undefined) {
    const index = names.indexOf(options.object);
    if (index < 0) {
      throw new ConfigurationError(
        `${options.where} has no schema object '${options.object}'; its objects: ${names.join(', ')}`,
      );
    }
    return index;
  }
  if (objects.length > 1) {
    throw new ConfigurationError(
      `${options.where} describes ${objects.length} schema objects (${names.join(', ')}); a Sluice contract is one dataset: name one with --object`,
    );
  }
  return 0;
}

/** A column's JSON Schema from an ODCS property; the property's other fields under x-odcs. */
function propertySchema(
  property: Json,
  texts: Json[],
  position: string,
  problems: string[],
  notes: string[],
): Json {
  const {
    name,
    logicalType,
    logicalTypeOptions,
    description,
    businessName,
    examples,
    required: _required,
    unique: _unique,
    primaryKey: _primaryKey,
    primaryKeyPosition: _position,
    quality: _quality,
    customProperties,
    ...rest
  } = property;
  const schema: Json = {};
  const kept: Json = { ...rest };
  const options: Json = isRecord(logicalTypeOptions) ? { ...logicalTypeOptions } : {};
  const type = typeof logicalType === 'string' ? logicalType : undefined;
  if (logicalType !== undefined) {
    const base = type === undefined ? undefined : JSON_SCHEMA_OF_LOGICAL_TYPE[type];
    if (base) Object.assign(schema, base);
    else {
      problems.push(
        `${position}: logicalType ${JSON.stringify(logicalType)} is not one of ODCS's ${Object.keys(JSON_SCHEMA_OF_LOGICAL_TYPE).join(', ')}`,
      );
    }
  }
  // A date written another way than ISO (dd/MM/yyyy) is typed as text rather than refused.
  if (
    schema.format !== undefined &&
    typeof options.format === 'string' &&
    !ISO_PATTERN.test(options.format)
  ) {
    delete schema.format;
    kept.logicalType = logicalType;
  }
  for (const key of OPTIONS_AS_JSON_SCHEMA[type ?? ''] ?? []) {
    if (key in options) {
      schema[key] = options[key];
      delete options[key];
    }
  }
  if (type === 'string' && typeof options.format === 'string' && STRING_FORMATS.has(options.format)) {
    schema.format = options.format;
    delete options.format;
  }
  if (Object.keys(options).length > 0) kept.logicalTypeOptions = options;
  // A date's ISO pattern is what its JSON Schema format checks; the rest is kept, not checked.
  const unchecked = Object.keys(options).filter((k) => !(k === 'format' && schema.format !== undefined));
  if (unchecked.length > 0) {
    notes.push(`${position} (${String(name)}): logicalTypeOptions ${unchecked.join(', ')} kept, not checked`);
  }
  if (description !== undefined) schema.description = description;
  if (businessName !== undefined) schema.title = businessName;
  if (examples !== undefined) schema.examples = examples;
  const custom = Array.isArray(customProperties) ? customProperties : [];
  const extras = custom.find((c) => isRecord(c) && c.property === JSON_SCHEMA_EXTRAS) as Json | undefined;
  const others = custom.filter((c) => c !== extras);
  if (others.length > 0) kept.customProperties = others;
  if (texts.length > 0) kept.quality = texts;
  if (isRecord(extras?.value)) Object.assign(schema, extras.value);
  if (Object.keys(kept).length > 0) schema[X_ODCS] = kept;
  return schema;
}

/** The contract around the schema: name, description, owner, source, format, metadata; and the Sluice settings. */
function contractOf(
  document: Json,
  object: Json,
  objectTexts: Json[],
  name: string,
  notes: string[],
): { contract: Json; settings: Json } {
  const {
    kind: _kind,
    apiVersion: _api,
    schema: _schema,
    team,
    support,
    slaProperties,
    customProperties,
    ...rest
  } = document;
  const { name: objectName, description, properties: _p, quality: _q, ...objectRest } = object;
  const custom = Array.isArray(customProperties) ? customProperties : [];
  const sluice = custom.find((c) => isRecord(c) && c.property === SLUICE_SETTINGS) as Json | undefined;
  const settings: Json = isRecord(sluice?.value) ? sluice.value : {};
  const others = custom.filter((c) => c !== sluice);

  const contract: Json = { name };
  if (typeof description === 'string') contract.description = description;
  const metadata: Json = {};
  if (isRecord(team)) {
    const { name: teamName, ...members } = team;
    if (typeof teamName === 'string') contract.owner = teamName;
    else if (teamName !== undefined) members.name = teamName;
    if (Object.keys(members).length > 0) metadata.team = members;
  } else if (team !== undefined) metadata.team = team;
  if (support !== undefined) metadata.support = support;
  if (slaProperties !== undefined) metadata.sla = slaProperties;
  // In the order of the ODCS schema's fields, whatever order the file had, so that a round trip writes the same YAML.
  const odcs: Json = Object.fromEntries(
    Object.entries(rest).sort(([a], [b]) => fieldOrder(a) - fieldOrder(b)),
  );
  if (others.length > 0) odcs.customProperties = others;
  const objectKept: Json = { ...objectRest };
  if (objectName !== name) objectKept.name = objectName;
  if (objectTexts.length > 0) objectKept.quality = objectTexts;
  if (Object.keys(objectKept).length > 0) odcs.object = objectKept;
  if (Object.keys(odcs).length > 0) metadata.odcs = odcs;

  contract.source = { type: 's3-upload', prefix: `${name}/` };
  if (!('source' in settings)) {
    notes.push(
      `source: the contract does not say where batches arrive; they start a run under the landing prefix '${name}/' (change source to the dataset's)`,
    );
  }
  contract.format = formatOf(document.servers, object, notes, 'format' in settings);
  contract.on_failure = 'quarantine';
  if (Object.keys(metadata).length > 0) contract.metadata = metadata;
  return { contract, settings };
}

const TOP_LEVEL_FIELDS = [
  'id',
  'name',
  'version',
  'status',
  'tenant',
  'domain',
  'dataProduct',
  'tags',
  'description',
  'servers',
  'price',
  'roles',
  'slaDefaultElement',
  'authoritativeDefinitions',
  'contractCreatedTs',
];
const fieldOrder = (key: string) => {
  const at = TOP_LEVEL_FIELDS.indexOf(key);
  return at < 0 ? TOP_LEVEL_FIELDS.length : at;
};

/** The format of the batches: an s3 or local server's format, else CSV (JSON Lines for nested records). */
function formatOf(servers: unknown, object: Json, notes: string[], settled: boolean): Json {
  for (const server of Array.isArray(servers) ? servers : []) {
    if (!isRecord(server) || (server.type !== 's3' && server.type !== 'local')) continue;
    if (server.format === 'csv') return { type: 'csv', header: true };
    if (server.format === 'json')
      return server.delimiter === 'new_line' ? { type: 'jsonl' } : { type: 'json' };
    if (!settled && server.format !== undefined) {
      notes.push(
        `server '${String(server.server)}' has format ${String(server.format)}, which Sluice does not read`,
      );
    }
  }
  const nested = (Array.isArray(object.properties) ? object.properties : []).some(
    (p) => isRecord(p) && (p.logicalType === 'object' || p.logicalType === 'array'),
  );
  if (!settled) {
    notes.push(
      `format: no s3 server says the files' format; ${nested ? 'JSON Lines (nested records)' : 'CSV with a header'} assumed`,
    );
  }
  return nested ? { type: 'jsonl' } : { type: 'csv', header: true };
}

function withoutSchema(settings: Json): Json {
  const out: Json = {};
  for (const key of SETTINGS_KEYS) if (key in settings) out[key] = settings[key];
  return out;
}

/** Writes the contract's keys in the order the other contracts use. */
function orderKeys(contract: Json): void {
  const order = [
    'name',
    'description',
    'owner',
    'source',
    'format',
    'schedule',
    'partition',
    'schema',
    'expectations',
    'on_failure',
    'batches',
    'version',
    'metadata',
  ];
  const entries = Object.entries(contract).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
  for (const key of Object.keys(contract)) delete contract[key];
  Object.assign(contract, Object.fromEntries(entries));
}

/** The contract loader's problems, each named by the ODCS position it came from. */
function loaderProblems(
  message: string,
  positions: readonly string[],
  columns: ReadonlyMap<string, string>,
): string[] {
  return message
    .split('\n')
    .slice(1)
    .map((line) => {
      const match = /\bat (\/\S*): (.*)$/.exec(line.trim());
      if (!match) return line.trim();
      const [, pointer, what] = match as unknown as [string, string, string];
      const expectation = /^\/expectations\/(\d+)(\/.*)?$/.exec(pointer);
      if (expectation) return `${positions[Number(expectation[1])]}${expectation[2] ?? ''}: ${what}`;
      const column = /^\/schema\/properties\/([^/]+)(\/.*)?$/.exec(pointer);
      const position = column && columns.get(column[1]!.replace(/~1/g, '/').replace(/~0/g, '~'));
      if (column && position) return `${position}${column[2] ?? ''}: ${what}`;
      return `the imported contract, at ${pointer}: ${what}`;
    });
}

function refusal(where: string, problems: string[], options?: ErrorOptions): OdcsUnsupported {
  return new OdcsUnsupported(
    `${where}: ${problems.length} problem${problems.length === 1 ? '' : 's'} with the contract:\n` +
      problems.map((p) => `  ${p}`).join('\n'),
    options,
  );
}
