import { CfnBudget } from 'aws-cdk-lib/aws-budgets';
import { Construct } from 'constructs';

export interface SpendingBudgetProps {
  readonly stage: string;
  /** What a month of this environment may cost, in US dollars. */
  readonly monthlyLimitUsd: number;
  /** Who is e-mailed when the month passes 80 % of the limit, or is forecast to pass all of it. */
  readonly email: string;
  /**
   * The cost-allocation tag that tells this environment's costs from the rest of the account's
   * (it must be activated once in the Billing console before costs carry it).
   */
  readonly costAllocationTag: { readonly key: string; readonly value: string };
}

/**
 * A monthly AWS Budget on one environment's costs, e-mailed to the people who get its alarms: a
 * runaway (a retry storm, a vendor replaying a year of events) shows in the bill before the
 * month ends.
 */
export class SpendingBudget extends Construct {
  readonly budget: CfnBudget;

  constructor(scope: Construct, id: string, props: SpendingBudgetProps) {
    super(scope, id);
    if (!(props.monthlyLimitUsd > 0))
      throw new Error(
        `SpendingBudget ${props.stage}: monthlyLimitUsd must be more than 0, got ${props.monthlyLimitUsd}`,
      );
    const subscribers = [{ subscriptionType: 'EMAIL', address: props.email }];
    const { key, value } = props.costAllocationTag;
    this.budget = new CfnBudget(this, 'Budget', {
      budget: {
        budgetName: `spine-${props.stage}-monthly`,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.monthlyLimitUsd, unit: 'USD' },
        // A user-defined cost-allocation tag is filtered on as "user:<key>$<value>".
        costFilters: { TagKeyValue: [`user:${key}$${value}`] },
      },
      notificationsWithSubscribers: [
        {
          notification: {
            notificationType: 'ACTUAL',
            comparisonOperator: 'GREATER_THAN',
            threshold: 80,
            thresholdType: 'PERCENTAGE',
          },
          subscribers,
        },
        {
          notification: {
            notificationType: 'FORECASTED',
            comparisonOperator: 'GREATER_THAN',
            threshold: 100,
            thresholdType: 'PERCENTAGE',
          },
          subscribers,
        },
      ],
    });
  }
}
