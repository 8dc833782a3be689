import type { IAspect } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { SpineFunction } from '../constructs/spine-function.ts';

/**
 * Turns on active X-Ray tracing for every Spine function under the scope it is added to: an
 * environment's `tracing` setting in cdk.json, which is off by default. A trace is paid for per
 * request sampled (Lambda's rule: 1 a second and 5 % of the rest), so it is on only where
 * someone means to read the traces.
 */
export class ActiveTracing implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof SpineFunction) node.traceActively();
  }
}
