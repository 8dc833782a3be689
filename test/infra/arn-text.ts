/** An ARN of a template as text, whether CDK wrote its partition as a literal or a reference. */
export function arnText(value: unknown): string {
  const join = (value as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
  if (!join) return typeof value === 'string' ? value : JSON.stringify(value);
  return join[1]
    .map((part) =>
      typeof part === 'string'
        ? part
        : JSON.stringify(part) === '{"Ref":"AWS::Partition"}'
          ? 'aws'
          : JSON.stringify(part),
    )
    .join(join[0]);
}
