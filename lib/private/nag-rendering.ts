/*
 * How cdk-nag names a resource in a granular finding id (for example `AwsSolutions-IAM5[Resource::<Bucket.Arn>/*]`),
 * so that the library can acknowledge exactly the finding it causes. Internal.
 */

/** How cdk-nag renders a resolved ARN in a finding id: `<Logical.Arn>`, `<AWS::Partition>`, joins concatenated. */
export function nagRendering(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') {
    return `<${v.Ref}>`;
  }
  if (typeof v['Fn::ImportValue'] === 'string') {
    return v['Fn::ImportValue'];
  }
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt.length === 2) {
    return `<${getAtt[0]}.${getAtt[1]}>`;
  }
  const join = v['Fn::Join'];
  if (Array.isArray(join) && join.length === 2 && typeof join[0] === 'string' && Array.isArray(join[1])) {
    const parts = join[1].map(nagRendering);
    return parts.every((p) => p !== undefined) ? parts.join(join[0]) : undefined;
  }
  return undefined;
}
