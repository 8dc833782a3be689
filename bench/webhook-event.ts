/** The payload v2 event API Gateway hands the receiver for a vendor's POST, for benches that call it in-process. */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export function webhookEvent(
  source: string,
  body: string,
  headers: Record<string, string>,
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/{source}',
    rawPath: `/webhooks/${source}`,
    rawQueryString: '',
    headers,
    pathParameters: { source },
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      requestId: randomUUID(),
      routeKey: 'POST /webhooks/{source}',
      stage: '$default',
      time: '',
      timeEpoch: Date.now(),
      http: {
        method: 'POST',
        path: `/webhooks/${source}`,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'bench',
      },
    },
    body,
    isBase64Encoded: false,
  };
}
