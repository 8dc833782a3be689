import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cdkContext, synthEnvironment } from './synth.ts';

interface ValidationReport {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: unknown[];
    suppressedViolations: { ruleName: string; reason: string; acknowledgedAt: string }[];
  }[];
}

describe('cdk-nag AwsSolutions', () => {
  it.each(Object.keys(cdkContext.environments))(
    '%s: no unacknowledged finding in either stack, and every acknowledgement gives a reason',
    (name) => {
      const { app, outdir } = synthEnvironment(name, cdkContext.environments, {
        policyValidation: true,
      });
      expect(() => app.synth()).not.toThrow();
      const report = JSON.parse(
        readFileSync(join(outdir, 'validation-report.json'), 'utf8'),
      ) as ValidationReport;
      const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
      expect(nag?.conclusion).toBe('success');
      expect(nag?.violations).toEqual([]);
      // Acknowledged findings exist (the parking queues, the open webhook route, X-Ray): each
      // must say why, in words a reviewer can check.
      expect(nag?.suppressedViolations.length).toBeGreaterThan(0);
      for (const finding of nag?.suppressedViolations ?? [])
        expect(
          finding.reason.length,
          `${finding.ruleName} at ${finding.acknowledgedAt}`,
        ).toBeGreaterThan(60);
      const rules = new Set(nag?.suppressedViolations.map((f) => f.ruleName));
      // Nothing beyond what was reviewed is waved through.
      expect([...rules].sort()).toEqual([
        'AwsSolutions-APIG4',
        // The managed policy that lets a function write its own logs, and nothing else.
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        // Actions IAM cannot scope (X-Ray, log delivery, GetRandomPassword); no wildcard action or ARN.
        'AwsSolutions-IAM5[Resource::*]',
        'AwsSolutions-SMG4',
        'AwsSolutions-SQS3',
      ]);
    },
  );
});
