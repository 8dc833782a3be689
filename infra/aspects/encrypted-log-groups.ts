import type { IAspect } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { CfnLogGroup } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';

/**
 * Encrypts every log group of a scope with one customer managed key, whichever construct made
 * it (a function's, the replay state machine's, the API's access logs), so that none is
 * forgotten when a construct adds one.
 */
export class EncryptedLogGroups implements IAspect {
  constructor(private readonly key: IKey) {}

  visit(node: IConstruct): void {
    if (node instanceof CfnLogGroup && node.kmsKeyId === undefined) node.kmsKeyId = this.key.keyArn;
  }
}
