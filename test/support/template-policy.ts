// IAM policy documents of a synthesized template, written out as readable lines so a test can list
// a role's grants exactly. CloudFormation references become cdk-nag-style placeholders with the
// construct's logical id minus CDK's hash suffix: `{ 'Fn::GetAtt': ['LakeRawBucket1A2B3C4D', 'Arn'] }`
// reads `<LakeRawBucket.Arn>`, `{ Ref: 'AWS::Region' }` reads `<AWS::Region>`, and an
// `Fn::Join` is joined.

export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** A logical id without the 8-character hash CDK appends to it. */
export function readableId(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, '');
}

/** A template value as a string, with every Ref, Fn::GetAtt and Fn::Join resolved as above. */
export function readable(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(readable).join(',');
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    const [name, argument] = entries[0] ?? [];
    if (entries.length === 1 && name === 'Ref') {
      const id = argument as string;
      return id.startsWith('AWS::') ? `<${id}>` : `<${readableId(id)}>`;
    }
    if (entries.length === 1 && name === 'Fn::GetAtt') {
      const [id, attribute] = argument as [string, string];
      return `<${readableId(id)}.${attribute}>`;
    }
    if (entries.length === 1 && name === 'Fn::Join') {
      const [separator, parts] = argument as [string, unknown[]];
      return parts.map(readable).join(separator);
    }
  }
  throw new Error(
    `cannot write ${JSON.stringify(value)} as a string: not a string, Ref, Fn::GetAtt or Fn::Join`,
  );
}

/** A statement's conditions as `<operator> <key> <values>` phrases, or '' without conditions. */
function readableCondition(condition: PolicyStatement['Condition']): string {
  if (!condition) return '';
  const phrases = Object.entries(condition).flatMap(([operator, keys]) =>
    Object.entries(keys).map(([key, values]) => `${operator} ${key} ${readable([values].flat())}`),
  );
  return ` when ${phrases.sort().join(' and ')}`;
}

/**
 * One line per action and resource a statement allows (or denies): `<action> on <resource>`,
 * followed by ` when <condition>` when it has one. Wildcard actions stay as they are written.
 */
export function grantLines(statement: PolicyStatement): string[] {
  const actions = [statement.Action ?? []].flat();
  const resources = [statement.Resource ?? []].flat().map(readable);
  const condition = readableCondition(statement.Condition);
  return actions.flatMap((action) => resources.map((resource) => `${action} on ${resource}${condition}`));
}

/** The statements of every AWS::IAM::Policy attached to the role with this logical id. */
export function roleStatements(
  resources: Record<string, CfnResource>,
  roleLogicalId: string,
): PolicyStatement[] {
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        (r.Properties.Roles as unknown[]).some((ref) => (ref as { Ref?: string }).Ref === roleLogicalId),
    )
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement);
}
