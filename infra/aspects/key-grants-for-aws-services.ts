import type { IAspect } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';

/**
 * Lets only AWS services create grants on Spine's keys (Control Tower's CT.KMS.PR.3): DynamoDB
 * creates grants to use a table's key, and nothing of Spine's own does. A principal that may
 * use a key can otherwise hand that use on to anyone with a grant.
 */
export class KeyGrantsForAwsServicesOnly implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof Key)) return;
    node.addToResourcePolicy(
      new PolicyStatement({
        sid: 'GrantsForAwsServicesOnly',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: {
          BoolIfExists: {
            'kms:GrantIsForAWSResource': 'false',
            'aws:PrincipalIsAWSService': 'false',
          },
        },
      }),
    );
  }
}
