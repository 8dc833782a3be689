/**
 * The dependencies of the Lambdas, built once per container on first use: AWS clients (which
 * honour AWS_ENDPOINT_URL_* locally), the contract registry, lineage, secrets and Odoo.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { loadContractRegistry } from '../contracts/index.ts';
import type { ContractRegistry } from '../contracts/registry.ts';
import { DynamoDbLineageStore } from '../lineage/dynamodb-store.ts';
import type { LineageStore } from '../lineage/model.ts';
import { readConfig, type SpineConfig } from './config.ts';
import { SqsEnvelopeQueues } from './queues.ts';
import { CachedSecrets, OdooConnection, WebhookSecretsFromManager } from './secrets.ts';
import { SourceApis } from './source-apis.ts';
import { traceAwsClients } from './tracing.ts';

export interface Container {
  readonly config: SpineConfig;
  readonly registry: ContractRegistry;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly secrets: CachedSecrets;
  readonly lineage: LineageStore;
  readonly queues: SqsEnvelopeQueues;
  readonly webhookSecrets: WebhookSecretsFromManager;
  readonly odoo: OdooConnection;
  /** The vendors' APIs, for enriching thin events. */
  readonly sourceApis: SourceApis;
}

let container: Container | undefined;

export function getContainer(): Container {
  if (!container) {
    const config = readConfig();
    const sqs = new SQSClient({});
    const dynamodb = new DynamoDBClient({});
    const secretsManager = new SecretsManagerClient({});
    if (config.tracing) traceAwsClients([sqs, dynamodb, secretsManager]);
    const secrets = new CachedSecrets(secretsManager);
    container = {
      config,
      registry: loadContractRegistry(),
      sqs,
      dynamodb,
      secrets,
      lineage: new DynamoDbLineageStore(dynamodb, config.lineageTable, {
        retentionDays: config.lineageRetentionDays,
      }),
      queues: new SqsEnvelopeQueues(sqs, config.flows),
      webhookSecrets: new WebhookSecretsFromManager(secrets, config.webhookSecretPrefix),
      odoo: new OdooConnection(
        secrets,
        config.odooSecret,
        {
          timeoutMs: config.odooTimeoutSeconds * 1000,
          guard: {
            ratePerSecond: config.odooRatePerSecond,
            maxConcurrency: config.odooMaxConcurrency,
            breakerOpenMs: config.odooCircuitOpenSeconds * 1000,
            retries: config.odooRetries,
          },
        },
        config.odoo,
      ),
      sourceApis: new SourceApis(secrets, {
        stage: config.stage,
        baseUrls: config.vendorApiUrls,
        rateLimits: config.vendorRateLimits,
      }),
    };
  }
  return container;
}

/** Forgets the container, for tests and the local runtime after a configuration change. */
export function resetContainer(): void {
  container = undefined;
}
