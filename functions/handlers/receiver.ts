/**
 * POST /webhooks/{source}: adapts the API Gateway (HTTP API, payload v2) event to
 * receiveWebhook and its answer back to HTTP.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { receiveWebhook } from '../ingest/receive.ts';
import { getContainer } from '../platform/container.ts';
import { createLogger, flushMetrics, logPort, publishMetric } from '../platform/powertools.ts';
import { redactionKey } from '../platform/secrets.ts';

const logger = createLogger();
const log = logPort(logger);

function publicUrls(event: APIGatewayProxyEventV2, headers: Record<string, string>): string[] {
  const host = headers['x-forwarded-host'] ?? event.requestContext?.domainName ?? '';
  const path = `${event.rawPath ?? ''}${event.rawQueryString ? `?${event.rawQueryString}` : ''}`;
  return [`https://${host}${path}`, `http://${host}${path}`];
}

/** Names lower-cased as payload v2 promises, whoever built the event; a repeated name joined. */
function lowerCasedHeaders(headers: APIGatewayProxyEventV2['headers'] | undefined) {
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    lower[key] = lower[key] === undefined ? value : `${lower[key]},${value}`;
  }
  return lower;
}

const json = (
  statusCode: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { ...headers, 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export const handler = middy(
  async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    try {
      const container = getContainer();
      const headers = lowerCasedHeaders(event.headers);
      const answer = await receiveWebhook(
        {
          source: event.pathParameters?.source ?? '',
          method: event.requestContext?.http?.method ?? 'POST',
          rawBody: Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8'),
          headers,
          urls: publicUrls(event, headers),
          receivedAt: new Date(event.requestContext?.timeEpoch || Date.now()),
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
      return json(answer.status, answer.body, answer.headers);
    } catch (error) {
      // receiveWebhook answers every bad input itself, so this is a fault of Spine's (its
      // configuration, a defect): logged with its cause, where an uncaught error would reach
      // API Gateway as a bare 500. The vendor retries, and nothing was stored.
      logger.error('the receiver failed; answered 500', error as Error);
      return json(500, {
        error: 'internal-error',
        detail: 'Spine failed to handle this delivery; retry later',
      });
    } finally {
      // The delivery's metrics, one line per dimension set (see publishMetric).
      flushMetrics();
    }
  },
).use(injectLambdaContext(logger, { resetKeys: true }));
