import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges findings of a granular cdk-nag rule (IAM5 reports one finding per wildcard) on a
 * construct and its children, all for the same reason. Each finding is named exactly, so a new
 * wildcard that nobody explained still fails the checks.
 */
export function acknowledgeFindings(
  scope: IConstruct,
  ruleId: string,
  findings: readonly string[],
  reason: string,
): void {
  Validations.of(scope).acknowledge(...findings.map((finding) => ({ id: `${ruleId}[${finding}]`, reason })));
}
