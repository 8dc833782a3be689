import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { CfnPermission } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, RotationSchedule } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SpineFunction } from './spine-function.ts';

export interface OdooCredentialsProps {
  readonly stage: string;
  /** The Odoo credential secret, kept by the stateful stack. */
  readonly secret: ISecret;
  /** Spine's configuration for the rotation function. */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  /** @default Duration.days(30) */
  readonly rotateEvery?: Duration;
}

/**
 * The Odoo credential and its rotation: the four-step Secrets Manager protocol run by the
 * rotate-credentials Lambda (an Odoo 19 API key or a password, chosen by the secret's content).
 */
export class OdooCredentials extends Construct {
  readonly secret: ISecret;
  readonly rotation: SpineFunction;

  constructor(scope: Construct, id: string, props: OdooCredentialsProps) {
    super(scope, id);
    this.secret = props.secret;
    this.rotation = new SpineFunction(this, 'Rotation', {
      handlerFile: 'rotate-credentials.ts',
      functionName: `spine-${props.stage}-rotate-credentials`,
      description: 'Rotates the Odoo credential (Odoo 19 API key or password)',
      environment: props.environment,
      logRetention: props.logRetention,
      timeout: Duration.minutes(2),
      // One rotation at a time: its share of the Odoo budget assumes one container (environment.ts).
      reservedConcurrency: 1,
    });
    // Grants the function DescribeSecret, GetSecretValue, PutSecretValue and
    // UpdateSecretVersionStage on this secret, GetRandomPassword, and lets Secrets Manager invoke it.
    new RotationSchedule(this, 'Schedule', {
      secret: props.secret,
      rotationLambda: this.rotation.function,
      automaticallyAfter: props.rotateEvery ?? Duration.days(30),
      // The secret holds no login until an operator stores one after the first deploy. Secrets
      // Manager still runs testSecret when the schedule is created; the rotation skips a secret
      // without a login (functions/rotation/rotate.ts), so the deploy and the alarm stay green.
      rotateImmediatelyOnUpdate: false,
    });
    // The schedule lets secretsmanager.amazonaws.com invoke the function for any secret of any
    // account; Secrets Manager may only do so for this secret (no confused deputy).
    const invoke = this.rotation.function.node.children.find(
      (child): child is CfnPermission =>
        child instanceof CfnPermission && child.principal === 'secretsmanager.amazonaws.com',
    );
    if (!invoke)
      throw new Error('OdooCredentials: the rotation schedule gave no invoke permission');
    invoke.sourceAccount = Stack.of(this).account;
    invoke.sourceArn = props.secret.secretArn;
    Validations.of(this.rotation).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'secretsmanager:GetRandomPassword and the X-Ray actions of active tracing act on no resource, so IAM only takes "*" for them; every other action of the rotation function names the Odoo secret.',
    });
  }

  /** Reading the current credential (workers, reconciliation). */
  grantRead(grantee: IGrantable): void {
    this.secret.grantRead(grantee);
  }

  /** Rotations that failed: AWSCURRENT still works, but the credential was not changed. */
  metricRotationFailures(options?: MetricOptions): Metric {
    return this.rotation.metricErrors({ label: 'rotation failures', ...options });
  }
}
