/**
 * A thin HubSpot contract enriched with the contact it names, as a contract file: what the lint,
 * build, check and runtime tests of `enrich` start from. Kept here rather than in contracts/,
 * so the committed contracts can change without moving these tests.
 */

export const ENRICHED_FILE = 'contracts/hubspot/contact-enriched.v1.yaml';

export const ENRICHED_CONTRACT = `# yaml-language-server: $schema=../contract.schema.json
id: hubspot.contact-enriched
version: 1.0.0
status: active
owner:
  team: sales-operations
  contact: salesops@example.com
description: A contact was created in HubSpot; the worker fetches it and writes the partner.
flow: customers
source:
  system: hubspot
  signature: hubspot
  batch: array
  eventType: { path: $.subscriptionType }
  events: [contact.enriched-test]
  eventId: { path: $.eventId }
  occurredAt: { path: $.occurredAt }
  entityKey: { path: $.objectId }
  thin: true
schema:
  $schema: https://json-schema.org/draft/2020-12/schema
  type: object
  required: [eventId, occurredAt, subscriptionType, objectId]
  properties:
    eventId:
      description: HubSpot's id of this event.
      type: [integer, string]
    occurredAt:
      description: When the contact was created, unix milliseconds.
      type: integer
    subscriptionType:
      description: The event type.
      type: string
    objectId:
      description: The HubSpot contact id.
      type: [integer, string]
enrich:
  object: hubspot.contact
  id: { path: $.objectId }
  properties: [email, firstname, lastname, phone]
  as: contact
  schema:
    type: object
    required: [id, properties, updatedAt]
    properties:
      id: { type: string }
      updatedAt: { type: string, format: date-time }
      archived: { type: boolean }
      properties:
        type: object
        properties:
          email: { type: [string, "null"], x-pii: hash }
          firstname: { type: [string, "null"], x-pii: hash }
          lastname: { type: [string, "null"], x-pii: hash }
          phone: { type: [string, "null"], x-pii: hash }
target:
  model: res.partner
  externalId: hubspot_contact_{entityKey}
  match:
    - { field: email, normalise: email }
  mapping: |
    (
      $p := $contact.properties;
      {
        "name": $join([$p.firstname, $p.lastname][$ != null], " "),
        "email": $p.email,
        "phone": $contact.properties.phone
      }
    )
  write: [name, email, phone]
compatibility: backward
reconcile:
  count: true
quality:
  freshness: PT1H
`;
