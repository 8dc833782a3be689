/** The webhook API as vendors meet it: a route and a throttle per source, and what it logs. */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { compiledRegistry } from '../../functions/contracts/compiled/registry.ts';
import { synthEnvironment } from './synth.ts';

const SOURCES = [...new Set(compiledRegistry.contracts.map((c) => c.source.system))].sort();

describe('the webhook API', () => {
  const { edge, stateless } = synthEnvironment('prod');
  const template = Template.fromStack(edge);
  const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0]
    ?.Properties as {
    RouteSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }>;
    AccessLogSettings: { Format: string };
  };

  it('gives each source a route and a throttle of its own, so that one vendor cannot take another’s share', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties.RouteKey as string,
    );
    expect(routes.sort()).toEqual(
      ['POST /webhooks/{source}', ...SOURCES.map((s) => `POST /webhooks/${s}`)].sort(),
    );
    for (const source of SOURCES)
      expect(stage.RouteSettings[`POST /webhooks/${source}`], source).toEqual({
        ThrottlingRateLimit: 100,
        ThrottlingBurstLimit: 200,
      });
    // Names without a contract (scanners, a mistyped URL) get little.
    expect(stage.RouteSettings['POST /webhooks/{source}']).toEqual({
      ThrottlingRateLimit: 10,
      ThrottlingBurstLimit: 20,
    });
  });

  it('logs what an operator needs to read a failed delivery: the error, the integration latency and the user agent', () => {
    const format = JSON.parse(stage.AccessLogSettings.Format) as Record<string, string>;
    expect(format).toMatchObject({
      status: '$context.status',
      error: '$context.error.message',
      integrationLatency: '$context.integrationLatency',
      integrationError: '$context.integrationErrorMessage',
      userAgent: '$context.identity.userAgent',
    });
  });

  it('lets every webhook route of this API invoke the receiver, and nothing else', () => {
    const permissions = Object.values(
      Template.fromStack(stateless).findResources('AWS::Lambda::Permission'),
    ).filter((p) => p.Properties.Principal === 'apigateway.amazonaws.com');
    expect(permissions).toHaveLength(1);
    expect(JSON.stringify(permissions[0]?.Properties.SourceArn)).toContain('/*/*/webhooks/*');
  });
});
