import { Duration } from 'aws-cdk-lib';
import {
  type IMetric,
  MathExpression,
  type Metric,
  type MetricOptions,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { FINANCE_METRICS } from '../../functions/reconcile/finance-metrics.ts';
import type { OdooCredentials } from './odoo-credentials.ts';
import { SpineFunction } from './spine-function.ts';
import { SPINE_NAMESPACE, spineMetric } from './spine-metrics.ts';
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
 * what Odoo holds, published as the `reconciliation-mismatches` metric each Flow alarms on, and
 * what the vendors charged against what Odoo books: the figures finance watches, per contract
 * and currency and over all of them.
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
      // One run at a time: its share of the Odoo budget assumes one container (environment.ts).
      reservedConcurrency: 1,
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

  /** Applied invoices still in draft in Odoo, over every contract and currency, at the last run. */
  metricUnpostedInvoices(options?: MetricOptions): Metric {
    return this.lastRun(FINANCE_METRICS.unpostedInvoices, 'unposted invoices', options);
  }

  /** Posted payments not reconciled with their invoice, at the last run. */
  metricUnmatchedPayments(options?: MetricOptions): Metric {
    return this.lastRun(FINANCE_METRICS.unmatchedPayments, 'unmatched payments', options);
  }

  /** Orders the vendor says are paid, still unconfirmed in Odoo, at the last run. */
  metricUnconfirmedPaidOrders(options?: MetricOptions): Metric {
    return this.lastRun(FINANCE_METRICS.unconfirmedPaidOrders, 'unconfirmed paid orders', options);
  }

  /**
   * The largest |vendor − Odoo| of the headline amounts in any one currency at the last run, in
   * that currency's major unit (amounts of two currencies are never added).
   */
  metricAmountDifference(options?: MetricOptions): Metric {
    return this.lastRun(FINANCE_METRICS.amountDifference, 'largest amount difference', options);
  }

  /**
   * Every contract and currency's series of a finance metric, for graphs (currencies are only
   * known at run time, so they are searched for; CloudWatch does not alarm on a search).
   */
  searchFinanceMetric(name: (typeof FINANCE_METRICS)[keyof typeof FINANCE_METRICS]): IMetric {
    const period = Duration.days(1);
    // The schema keeps to the per contract and currency series, not the one over all of them.
    return new MathExpression({
      expression: `SEARCH('{${SPINE_NAMESPACE},contract,currency,flow,service} MetricName="${name}"', 'Maximum', ${period.toSeconds()})`,
      usingMetrics: {},
      label: '',
      period,
    });
  }

  private lastRun(name: string, label: string, options?: MetricOptions): Metric {
    // One run a day publishes one value: the day's maximum is that run's.
    return spineMetric(
      name,
      {},
      { statistic: 'Maximum', period: Duration.days(1), label, ...options },
    );
  }
}
