import { type IAspect, TagManager } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Flow } from '../constructs/flow.ts';
import { FlowQueues } from '../constructs/flow-queues.ts';

/**
 * The tags the bill is split by, once activated as cost-allocation tags in the Billing console:
 * the environment (what the budget of each environment counts), the stack's part, and the flow.
 */
export const COST_ALLOCATION_TAG_KEYS = {
  environment: 'spine:environment',
  component: 'spine:component',
  flow: 'spine:flow',
} as const;

export interface CostAllocationTagsProps {
  /** The environment's name in cdk.json. */
  readonly environment: string;
  /** Which part of Spine the stack is: `edge`, `stateful` or `stateless`. */
  readonly component: string;
}

/**
 * Tags every taggable resource with its environment and component, and what belongs to a flow
 * (its queues, its worker and the worker's log group, role and event source) with the flow, so
 * that Cost Explorer shows what each flow costs.
 */
export class CostAllocationTags implements IAspect {
  constructor(private readonly props: CostAllocationTagsProps) {}

  visit(node: IConstruct): void {
    const tags = TagManager.isTaggableV2(node)
      ? node.cdkTagManager
      : TagManager.isTaggable(node)
        ? node.tags
        : undefined;
    if (!tags) return;
    tags.setTag(COST_ALLOCATION_TAG_KEYS.environment, this.props.environment);
    tags.setTag(COST_ALLOCATION_TAG_KEYS.component, this.props.component);
    const flow = node.node.scopes.findLast(
      (scope): scope is Flow | FlowQueues => scope instanceof Flow || scope instanceof FlowQueues,
    );
    if (flow) tags.setTag(COST_ALLOCATION_TAG_KEYS.flow, flow.flowName);
  }
}
