/**
 * What keeps Odoo and the queues safe in production: one Odoo budget shared by every container
 * that calls it, reserved concurrency for each of them, and redrive limits sized to outlast an
 * Odoo outage with the retry schedule the workers use.
 */
import { describe, expect, it } from 'vitest';
import { compiledRegistry } from '../../functions/contracts/compiled/registry.ts';
import { retriesSpanSeconds } from '../../functions/sync/redelivery.ts';
import { EnvironmentError, readEnvironment } from '../../infra/environment.ts';
import { cdkContext, synthEnvironment } from './synth.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };

const ENVIRONMENTS = Object.keys(cdkContext.environments);

function functionsByName(resources: Record<string, Resource>) {
  return new Map(
    Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => [r.Properties.FunctionName as string, r.Properties]),
  );
}

describe.each(ENVIRONMENTS)('the %s environment', (name) => {
  const { stateless, statelessTemplate, template, environment } = synthEnvironment(name);
  const functions = functionsByName(statelessTemplate.toJSON().Resources);
  const workers = stateless.flows.map((flow) => ({
    flow,
    props: functions.get(`spine-${name}-worker-${flow.flowName}`) as Record<string, unknown>,
  }));
  const odooCallers = [
    ...workers.map((w) => w.props),
    functions.get(`spine-${name}-reconcile`),
    functions.get(`spine-${name}-rotate-credentials`),
  ] as Record<string, unknown>[];

  it('reserves for each worker what its event source may run at once, and one for each other Odoo caller', () => {
    for (const { flow, props } of workers)
      expect(props.ReservedConcurrentExecutions, flow.flowName).toBe(
        environment.concurrency[flow.flowName],
      );
    expect(functions.get(`spine-${name}-reconcile`)?.ReservedConcurrentExecutions).toBe(1);
    expect(functions.get(`spine-${name}-rotate-credentials`)?.ReservedConcurrentExecutions).toBe(1);
    const reserved = [...functions.values()].reduce(
      (sum, p) => sum + Number(p.ReservedConcurrentExecutions ?? 0),
      0,
    );
    expect(reserved).toBeLessThanOrEqual(environment.lambdaConcurrencyQuota - 100);
  });

  it("never lets the containers that call Odoo together exceed the environment's Odoo budget", () => {
    const containers = odooCallers.reduce(
      (sum, p) => sum + Number(p.ReservedConcurrentExecutions),
      0,
    );
    const limits = odooCallers.map((p) => {
      const variables = (p.Environment as { Variables: Record<string, string> }).Variables;
      return {
        rate: Number(variables.SPINE_ODOO_RATE_PER_SECOND),
        calls: Number(variables.SPINE_ODOO_MAX_CONCURRENCY),
        containers: Number(p.ReservedConcurrentExecutions),
      };
    });
    const rate = limits.reduce((sum, l) => sum + l.rate * l.containers, 0);
    const calls = limits.reduce((sum, l) => sum + l.calls * l.containers, 0);
    expect(containers).toBeGreaterThan(2);
    expect(rate).toBeLessThanOrEqual(environment.odooBudget.ratePerSecond);
    expect(calls).toBeLessThanOrEqual(environment.odooBudget.maxConcurrentCalls);
    // And a share is not wasted: each container gets at least one call at a time.
    for (const l of limits) expect(l.calls).toBeGreaterThanOrEqual(1);
  });

  it('sizes each redrive limit so that the retries of an event span the tolerated Odoo outage', () => {
    const tolerance = environment.odooOutageToleranceMinutes * 60;
    for (const { flow, props } of workers) {
      const variables = (props.Environment as { Variables: Record<string, string> }).Variables;
      const limit = Number(variables.SPINE_MAX_RECEIVE_COUNT);
      const policy = {
        baseSeconds: Number(variables.SPINE_REDELIVERY_BASE_SECONDS),
        capSeconds: Number(variables.SPINE_REDELIVERY_CAP_SECONDS),
      };
      expect(retriesSpanSeconds(limit, policy), flow.flowName).toBeGreaterThanOrEqual(tolerance);
      // The queue redrives at the same limit the worker knows.
      const queue = Object.values(template.toJSON().Resources as Record<string, Resource>).find(
        (r) =>
          r.Type === 'AWS::SQS::Queue' &&
          String(r.Properties.QueueName).startsWith(`spine-${name}-${flow.flowName}`) &&
          r.Properties.RedrivePolicy !== undefined,
      );
      expect(queue?.Properties.RedrivePolicy, flow.flowName).toMatchObject({
        maxReceiveCount: limit,
      });
      // An Odoo call leaves room in the invocation for a retry.
      expect(Number(variables.SPINE_ODOO_TIMEOUT_SECONDS)).toBeLessThanOrEqual(
        Number(props.Timeout) / 3,
      );
    }
  });
});

describe('the Odoo budget and the concurrency quota in cdk.json', () => {
  const prod = cdkContext.environments.prod as Record<string, unknown>;
  const read = (changes: Record<string, unknown>) =>
    readEnvironment({ prod: { ...prod, ...changes } }, 'prod', compiledRegistry);

  it('refuses concurrency that the account cannot reserve, naming the quota to raise', () => {
    expect(() => read({ lambdaConcurrencyQuota: 10 })).toThrow(EnvironmentError);
    expect(() => read({ lambdaConcurrencyQuota: 10 })).toThrow(
      /reserve 14 concurrent executions, but an account with lambdaConcurrencyQuota 10 can reserve 0 .*L-B99A9384/,
    );
  });

  it('refuses a budget too small to give every container a call', () => {
    expect(() => read({ odooBudget: { ratePerSecond: 60, maxConcurrentCalls: 10 } })).toThrow(
      /shared by the 14 containers .* leave 4.28 calls\/s and 0 concurrent calls each/,
    );
  });

  it('divides the budget evenly over the containers', () => {
    expect(read({}).odooLimits).toEqual({ ratePerSecond: 4.28, maxConcurrency: 2 });
  });
});
