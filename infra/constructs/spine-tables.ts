import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { idempotencyTableName, lineageTableName } from '../../functions/platform/names.ts';
import {
  IDEMPOTENCY_TABLE,
  LINEAGE_TABLE,
  type TableDefinition,
} from '../../functions/platform/tables.ts';

export interface SpineTablesProps {
  readonly stage: string;
  /** Key the tables are encrypted with. */
  readonly encryptionKey: IKey;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Whether DynamoDB refuses to delete the tables, whatever asks (a console click, a stack
   * delete): the lineage is the audit trail and the idempotency records keep exactly once.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/** Lineage index names, as the lineage store queries them. */
export type LineageIndex = (typeof LINEAGE_TABLE.indexes)[number]['name'];

/**
 * The idempotency table and the lineage table, built from the key schemas the handlers use.
 * Grants name the item actions each handler calls, on exactly the table or index it uses.
 */
export class SpineTables extends Construct {
  readonly idempotencyTable: Table;
  readonly lineageTable: Table;
  private readonly encryptionKey: IKey;

  constructor(scope: Construct, id: string, props: SpineTablesProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const make = (tableId: string, tableName: string, definition: TableDefinition) => {
      const table = new Table(this, tableId, {
        tableName,
        partitionKey: { name: definition.partitionKey, type: AttributeType.STRING },
        ...(definition.sortKey
          ? { sortKey: { name: definition.sortKey, type: AttributeType.STRING } }
          : {}),
        ...(definition.timeToLiveAttribute
          ? { timeToLiveAttribute: definition.timeToLiveAttribute }
          : {}),
        billingMode: BillingMode.PAY_PER_REQUEST,
        encryption: TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: props.encryptionKey,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: props.deletionProtection ?? true,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      for (const index of definition.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
          ...(index.sortKey
            ? { sortKey: { name: index.sortKey, type: AttributeType.STRING } }
            : {}),
          // What an index keeps is paid again on every write: each keeps what its readers use.
          ...(index.projection === 'KEYS_ONLY'
            ? { projectionType: ProjectionType.KEYS_ONLY }
            : index.projection
              ? { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...index.projection] }
              : {}),
        });
      }
      return table;
    };
    this.idempotencyTable = make(
      'Idempotency',
      idempotencyTableName(props.stage),
      IDEMPOTENCY_TABLE,
    );
    this.lineageTable = make('Lineage', lineageTableName(props.stage), LINEAGE_TABLE);
  }

  /** What Powertools idempotency does with its records: read, claim, complete, release. */
  grantIdempotencyRecords(grantee: IGrantable): void {
    this.allow(
      grantee,
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      [this.idempotencyTable.tableArn],
    );
  }

  /** Appending lineage entries (receiver, replay). */
  grantLineageAppend(grantee: IGrantable): void {
    this.allow(grantee, ['dynamodb:BatchWriteItem'], [this.lineageTable.tableArn]);
  }

  /**
   * Appending lineage entries, claiming and ending an entity's claim, and locking natural keys
   * (worker): conditional puts, updates and deletes of single items, and reading a claim
   * holder's trail (a claim ends with its event's outcome).
   */
  grantLineageApply(grantee: IGrantable): void {
    this.allow(
      grantee,
      [
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ],
      [this.lineageTable.tableArn],
    );
  }

  /** Reading an entity's newest claimed change (reconciliation, for a record that differs). */
  grantLineageEntityStates(grantee: IGrantable): void {
    this.allow(grantee, ['dynamodb:GetItem'], [this.lineageTable.tableArn]);
  }

  /** Querying lineage through the given indexes only. */
  grantLineageQuery(grantee: IGrantable, indexes: readonly LineageIndex[]): void {
    if (indexes.length === 0) throw new Error('grantLineageQuery: name at least one index');
    this.allow(
      grantee,
      ['dynamodb:Query'],
      indexes.map((index) => `${this.lineageTable.tableArn}/index/${index}`),
    );
  }

  private allow(grantee: IGrantable, actions: string[], resources: string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions, resources }));
    // DynamoDB uses the table's customer managed key on the caller's behalf.
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [this.encryptionKey.keyArn],
      }),
    );
  }
}
