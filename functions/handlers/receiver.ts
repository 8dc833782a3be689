/**
 * POST /webhooks/{source}: adapts the API Gateway (HTTP API, payload v2) event to
 * receiveWebhook and its answer back to HTTP.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { receiveWebhook } from '../ingest/receive.ts';
import { getContainer } from '../platform/container.ts';
import { createLogger, logPort, publishMetric } from '../platform/powertools.ts';
import { redactionKey } from '../platform/secrets.ts';

const logger = createLogger();
const log = logPort(logger);

function publicUrls(event: APIGatewayProxyEventV2): string[] {
  const host = event.headers['x-forwarded-host'] ?? event.requestContext.domainName;
  const path = `${event.rawPath}${event.rawQueryString ? `?${event.rawQueryString}` : ''}`;
  return [`https://${host}${path}`, `http://${host}${path}`];
}

export const handler = middy(
  async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const container = getContainer();
    const source = event.pathParameters?.source ?? '';
    const answer = await receiveWebhook(
      {
        source,
        method: event.requestContext.http.method,
        rawBody: Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8'),
        headers: event.headers,
        urls: publicUrls(event),
        receivedAt: new Date(event.requestContext.timeEpoch || Date.now()),
      },
      {
        registry: container.registry,
        secrets: container.webhookSecrets,
        queues: container.queues,
        lineage: container.lineage,
        redactionKey: () => redactionKey(container.secrets, container.config.redactionSecret),
        telemetry: {
          count: (metric, dimensions, value = 1) =>
            publishMetric(metric, dimensions, undefined, value),
        },
        logger: log,
      },
    );
    return {
      statusCode: answer.status,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(answer.body),
    };
  },
).use(injectLambdaContext(logger, { resetKeys: true }));
