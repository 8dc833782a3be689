import { Duration } from 'aws-cdk-lib';
import type { Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { OdooCredentials } from './odoo-credentials.ts';
import { SpineFunction } from './spine-function.ts';
import type { SpineTables } from './spine-tables.ts';

export interface ReconciliationProps {
  readonly stage: string;
  readonly tables: SpineTables;
  readonly odooCredentials: OdooCredentials;
  /**
   * The key the worker fingerprints written values with: the run compares each field with what
   * the newest applied event wrote.
   */
  readonly redactionKey: ISecret;
  /** Spine's configuration for the reconciliation function. */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  /** When it runs; it checks yesterday and today (UTC). @default every day at 02:30 UTC */
  readonly schedule?: Schedule;
}

/**
 * The scheduled reconciliation: per contract and day, what lineage says was applied against
 * what Odoo holds, published as the `reconciliation-mismatches` metric each Flow alarms on.
 */
export class Reconciliation extends Construct {
  readonly function: SpineFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: ReconciliationProps) {
    super(scope, id);
    this.function = new SpineFunction(this, 'Function', {
      handlerFile: 'reconcile.ts',
      functionName: `spine-${props.stage}-reconcile`,
      description: 'Compares lineage with Odoo per contract and day',
      environment: props.environment,
      logRetention: props.logRetention,
      timeout: Duration.minutes(10),
    });
    props.tables.grantLineageQuery(this.function.function, ['byContractDay', 'byRecord']);
    props.tables.grantLineageEntityStates(this.function.function);
    props.odooCredentials.grantRead(this.function.function);
    props.redactionKey.grantRead(this.function.function);
    this.rule = new Rule(this, 'Schedule', {
      description: 'Spine reconciliation, yesterday and today',
      schedule: props.schedule ?? Schedule.cron({ minute: '30', hour: '2' }),
      targets: [new LambdaFunction(this.function.function, { retryAttempts: 2 })],
    });
  }

  /** Runs that failed before they could report (Odoo unreachable, a bad credential). */
  metricFailures(options?: MetricOptions): Metric {
    return this.function.metricErrors({ label: 'reconciliation failures', ...options });
  }
}
