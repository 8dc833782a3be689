/**
 * X-Ray subsegments for the AWS SDK clients (and, through the Tracer, each fetch to Odoo), when
 * the deployment turns tracing on (cdk.json `tracing`, SPINE_TRACING=active). Off by default:
 * a trace is paid for per request sampled, and one that shows no call is money for nothing.
 *
 * The Tracer (and the X-Ray SDK under it) is loaded only then, so a function without tracing
 * does not import it at a cold start.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';

type AwsClient = DynamoDBClient | SQSClient | SecretsManagerClient;

export function traceAwsClients(clients: readonly AwsClient[]): void {
  const captured = import('@aws-lambda-powertools/tracer').then(({ Tracer }) => {
    const tracer = new Tracer({ serviceName: 'spine' });
    for (const client of clients) tracer.captureAWSv3Client(client);
  });
  // A call made before the Tracer is loaded waits for it, so that calls after it are captured.
  for (const client of clients)
    (client.middlewareStack as DynamoDBClient['middlewareStack']).add(
      (next) => async (args) => {
        await captured;
        return next(args);
      },
      { step: 'initialize', name: 'spineTracerLoaded' },
    );
}
