/**
 * Resource names, the same in every environment and in the local runtime, so that a queue,
 * table or secret can be found from its flow or source alone.
 */

/** A flow's queue: `spine-<stage>-<flow>`, with `.fifo` for FIFO flows. */
export function flowQueueName(stage: string, flow: string, fifo: boolean): string {
  return `spine-${stage}-${flow}${fifo ? '.fifo' : ''}`;
}

/** Where a flow's failed events land. */
export function deadLetterQueueName(stage: string, flow: string, fifo: boolean): string {
  return `spine-${stage}-${flow}-dlq${fifo ? '.fifo' : ''}`;
}

/** Where replay parks events that failed too many replays. */
export function parkingQueueName(stage: string, flow: string, fifo: boolean): string {
  return `spine-${stage}-${flow}-parking${fifo ? '.fifo' : ''}`;
}

export function idempotencyTableName(stage: string): string {
  return `spine-${stage}-idempotency`;
}

export function lineageTableName(stage: string): string {
  return `spine-${stage}-lineage`;
}

/** A source's webhook signing secret: `{"current": "...", "previous": "..."}`. */
export function webhookSecretName(stage: string, source: string): string {
  return `spine/${stage}/webhooks/${source}`;
}

/** The Odoo credential: `{"login", "password" | "apiKey"}` (Odoo's address is cdk.json's, see odoo-address.ts). */
export function odooSecretName(stage: string): string {
  return `spine/${stage}/odoo`;
}

/** The key of the pseudonyms in logs and lineage. */
export function redactionKeySecretName(stage: string): string {
  return `spine/${stage}/redaction-key`;
}

/**
 * A source's API credential, for enrichment: `{"token": "..."}` (a HubSpot private app token, a
 * Stripe restricted key). Apart from the webhook secret: a different key, with a different owner.
 */
export function sourceCredentialName(stage: string, source: string): string {
  return `spine/${stage}/sources/${source}`;
}
