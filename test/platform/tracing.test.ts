/** X-Ray for the AWS clients: loaded and wired only where the deployment turns tracing on. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readConfig } from '../../functions/platform/config.ts';
import { traceAwsClients } from '../../functions/platform/tracing.ts';

const names = (client: DynamoDBClient) => client.middlewareStack.identify().join('\n');

const REQUIRED = {
  SPINE_STAGE: 'test',
  SPINE_FLOWS: '{}',
  SPINE_IDEMPOTENCY_TABLE: 'i',
  SPINE_LINEAGE_TABLE: 'l',
  SPINE_ODOO_SECRET: 'o',
  SPINE_REDACTION_SECRET: 'r',
  SPINE_WEBHOOK_SECRET_PREFIX: 'w/',
};

afterEach(() => vi.unstubAllEnvs());

describe('tracing', () => {
  it('is off unless the stack says SPINE_TRACING=active', () => {
    expect(readConfig(REQUIRED).tracing).toBe(false);
    expect(readConfig({ ...REQUIRED, SPINE_TRACING: 'active' }).tracing).toBe(true);
  });

  it('captures each AWS client with the Powertools Tracer, once it is loaded', async () => {
    // As in Lambda with active tracing: the Tracer traces only in a Lambda execution environment.
    vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs24.x');
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'spine-test-worker');
    const client = new DynamoDBClient({ region: 'eu-west-1' });
    const untouched = names(client);
    traceAwsClients([client]);
    expect(names(client)).toContain('spineTracerLoaded');
    await vi.waitFor(() => expect(names(client)).toContain('XRaySDKInstrumentation'), {
      timeout: 10_000,
    });
    expect(untouched).not.toContain('XRaySDKInstrumentation');
  });
});
