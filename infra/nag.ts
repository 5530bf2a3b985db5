import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

// cdk-nag 3 findings are acknowledged with CDK's Validations API, one finding id at a time
// (`AwsSolutions-IAM5[Resource::…]`), on the narrowest construct that causes it, with the reason
// next to the code that makes the finding necessary. Context `nagAcknowledgements=false`
// turns them all off: the nag test uses that to prove every acknowledgement matches a real
// finding (none is stale).

export const NAG_ACKNOWLEDGEMENTS_CONTEXT = 'nagAcknowledgements';

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  const enabled = scope.node.tryGetContext(NAG_ACKNOWLEDGEMENTS_CONTEXT);
  if (enabled === false || enabled === 'false') return;
  Validations.of(scope).acknowledge({ id, reason });
}

/** The IAM5 finding ids (`AwsSolutions-IAM5[Resource::…]`) a statement's wildcard resources raise. */
export function wildcardResourceFindings(scope: IConstruct, statement: iam.PolicyStatement): string[] {
  const json = statement.toStatementJson() as { Resource?: unknown };
  const resolved = Stack.of(scope).resolve(json.Resource);
  const resources = Array.isArray(resolved) ? resolved : resolved === undefined ? [] : [resolved];
  return resources
    .map(flattenReference)
    .filter((resource) => resource.includes('*'))
    .map((resource) => `AwsSolutions-IAM5[Resource::${resource}]`);
}

/** Acknowledges each wildcard resource of `statement` on `scope` (the role holding it). */
export function acknowledgeWildcardResources(
  scope: IConstruct,
  statement: iam.PolicyStatement,
  reason: string,
): void {
  for (const id of wildcardResourceFindings(scope, statement)) acknowledge(scope, id, reason);
}

/** A resolved CloudFormation value as cdk-nag prints it: `<AWS::Partition>`, `<Logical.Attr>`. */
function flattenReference(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    const join = record['Fn::Join'];
    if (Array.isArray(join)) {
      const [delimiter, items] = join as [string, unknown[]];
      return items.map(flattenReference).join(delimiter);
    }
    if ('Fn::Sub' in record) return flattenReference(record['Fn::Sub']);
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${flattenReference(getAtt[0])}.${flattenReference(getAtt[1])}>`;
    if ('Fn::ImportValue' in record) return flattenReference(record['Fn::ImportValue']);
    if ('Ref' in record) return `<${flattenReference(record.Ref)}>`;
  }
  return JSON.stringify(node);
}
