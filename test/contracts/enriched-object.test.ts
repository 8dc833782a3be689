import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRegistry } from '../../cli/contracts/compile.ts';
import { lintContracts } from '../../cli/contracts/lint.ts';
import { SourceDocument } from '../../cli/contracts/source-document.ts';
import {
  type CompiledContract,
  ContractRegistry,
  minimise,
  type PrecompiledValidator,
} from '../../functions/contracts/index.ts';
import { ENRICHED_CONTRACT, ENRICHED_FILE } from '../support/enriched-contract.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
let dir: string;
let registry: ContractRegistry;
let contract: CompiledContract;

/** A HubSpot contact as the CRM API answers it. */
const CONTACT = {
  id: '512',
  properties: {
    email: 'jane@example.com',
    firstname: 'Jane',
    lastname: 'Doe',
    phone: null,
    hs_object_id: '512',
  },
  createdAt: '2025-01-02T03:04:05.000Z',
  updatedAt: '2025-01-02T03:04:06.000Z',
  archived: false,
};

beforeAll(async () => {
  // Compiled as `spine contracts build` compiles, and the generated module imported as the
  // Lambdas import it (its Ajv helpers resolved from this checkout's node_modules).
  const sources = {
    flows: SourceDocument.parse(
      'contracts/flows.yaml',
      readFileSync(join(ROOT, 'contracts/flows.yaml'), 'utf8'),
    ),
    contracts: [SourceDocument.parse(ENRICHED_FILE, ENRICHED_CONTRACT)],
  };
  const lint = lintContracts(sources);
  if (!lint.flows || lint.contracts.length !== 1) throw new Error(JSON.stringify(lint.findings));
  const { registry: compiled, validatorsSource } = compileRegistry(
    lint.contracts,
    lint.flows,
    sources,
  );
  dir = mkdtempSync(join(tmpdir(), 'spine-enriched-'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'validators.mjs'), validatorsSource);
  const validators = (await import(pathToFileURL(join(dir, 'validators.mjs')).href)) as Record<
    string,
    PrecompiledValidator
  >;
  registry = new ContractRegistry(compiled, validators);
  contract = registry.contracts[0] as CompiledContract;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('an enriched contract, compiled', () => {
  it('carries what the worker fetches and how the expressions read it', () => {
    expect(contract.enrich).toEqual({
      object: 'hubspot.contact',
      id: { path: '$.objectId' },
      properties: ['email', 'firstname', 'lastname', 'phone'],
      expand: [],
      as: 'contact',
      shape: {
        kind: 'object',
        properties: {
          id: { kind: 'value' },
          updatedAt: { kind: 'value' },
          archived: { kind: 'value' },
          properties: {
            kind: 'object',
            properties: {
              email: { kind: 'value', pii: 'hash' },
              firstname: { kind: 'value', pii: 'hash' },
              lastname: { kind: 'value', pii: 'hash' },
              phone: { kind: 'value', pii: 'hash' },
            },
          },
        },
      },
      validator: 'hubspot_contact_enriched_v1_enrich',
    });
  });

  it('minimises the fetched object to what enrich.schema declares', () => {
    expect(minimise(contract.enrich?.shape ?? { kind: 'value' }, CONTACT)).toEqual({
      id: '512',
      properties: { email: 'jane@example.com', firstname: 'Jane', lastname: 'Doe', phone: null },
      updatedAt: '2025-01-02T03:04:06.000Z',
      archived: false,
    });
  });

  it('refuses a registry whose validators lack the enrichment validator', () => {
    const others: Record<string, PrecompiledValidator> = { [contract.validator]: () => true };
    expect(() => new ContractRegistry(registry.compiled, others)).toThrow(
      'the compiled validators have no hubspot_contact_enriched_v1_enrich',
    );
  });
});

describe('ContractRegistry.validateEnriched', () => {
  it('accepts the object as the vendor answers it, undeclared members and all', () => {
    expect(registry.validateEnriched(contract, CONTACT)).toEqual([]);
  });

  it('names each violation from $contact, without the values received', () => {
    const violations = registry.validateEnriched(contract, {
      ...CONTACT,
      updatedAt: 'yesterday',
      properties: { ...CONTACT.properties, email: 42, firstname: 'Jane-Secret' },
      id: undefined,
    });
    expect(violations).toEqual([
      { path: '$contact.id', keyword: 'required', message: 'is required but missing' },
      { path: '$contact.updatedAt', keyword: 'format', message: 'must match format "date-time"' },
      { path: '$contact.properties.email', keyword: 'type', message: 'must be string,null' },
    ]);
    expect(JSON.stringify(violations)).not.toMatch(/yesterday|Jane|42/);
  });

  it('is a configuration error for a contract that fetches nothing', () => {
    const { enrich: _, ...plain } = contract;
    expect(() => registry.validateEnriched(plain, CONTACT)).toThrow('fetches no vendor object');
  });

  it('still validates events as before', () => {
    expect(
      registry.validate(contract, {
        eventId: 1,
        occurredAt: 1,
        subscriptionType: 'contact.enriched-test',
        objectId: 512,
      }),
    ).toEqual([]);
  });
});
