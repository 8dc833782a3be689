import {
  Duration,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { CompiledRegistry } from '../../functions/contracts/model.ts';
import {
  odooSecretName,
  redactionKeySecretName,
  sourceCredentialName,
  webhookSecretName,
} from '../../functions/platform/names.ts';
import { FlowQueues } from '../constructs/flow-queues.ts';
import { SpineTables } from '../constructs/spine-tables.ts';
import type { SpineEnvironment } from '../environment.ts';

export interface StatefulStackProps extends StackProps {
  readonly environment: SpineEnvironment;
  readonly registry: CompiledRegistry;
}

/** What the Odoo secret holds until an operator stores a credential: the rotation skips it. */
export const NO_CREDENTIAL_YET = '{}';

/** Everything that keeps data: tables, queues, secrets and the key that encrypts them. */
export class StatefulStack extends Stack {
  readonly encryptionKey: Key;
  readonly tables: SpineTables;
  readonly flows: readonly FlowQueues[];
  readonly odooSecret: Secret;
  readonly redactionKeySecret: Secret;
  readonly webhookSecrets: Readonly<Record<string, Secret>>;
  /** Per source whose contracts enrich thin events: its API credential (`spine/<env>/sources/<source>`). */
  readonly sourceCredentials: Readonly<Record<string, Secret>>;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { environment: env, registry } = props;
    // Kept on a delete or a replacement, but not after a failed create: a first deploy that rolls
    // back leaves nothing behind, so the retry does not fail on a fixed name that "already exists".
    const retain = env.removalPolicy === 'retain';
    const removalPolicy = retain ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE : RemovalPolicy.DESTROY;
    this.encryptionKey = new Key(this, 'DataKey', {
      description: `Spine ${env.name}: queues, tables and secrets`,
      enableKeyRotation: true,
      removalPolicy,
    });
    this.tables = new SpineTables(this, 'Tables', {
      stage: env.name,
      encryptionKey: this.encryptionKey,
      removalPolicy,
      deletionProtection: retain,
    });
    this.flows = registry.flows.map(
      (flow) =>
        new FlowQueues(this, `Flow-${flow.name}`, {
          stage: env.name,
          flow,
          encryptionKey: this.encryptionKey,
          removalPolicy,
          outageTolerance: Duration.minutes(env.odooOutageToleranceMinutes),
        }),
    );

    // Secrets use Secrets Manager's own key: a grant on them then stays in the reader's IAM
    // policy, where a customer key would need each reader in its key policy, and the key policy
    // would then depend on the stateless stack that depends on this one.
    // The operator stores the login and password (or Odoo 19 API key) after the first deploy.
    // The value here is written once, when the secret is created, and never depends on cdk.json:
    // CloudFormation only writes it again when it changes, which would overwrite the stored and
    // rotated credential. Odoo's URL, database and protocol reach the functions as environment
    // variables instead (functions/platform/odoo-address.ts).
    this.odooSecret = new Secret(this, 'OdooCredential', {
      secretName: odooSecretName(env.name),
      description:
        'Odoo credential for Spine: {"login", "password"} or {"login", "apiKey"} (Odoo 19); Odoo\'s URL and database are in cdk.json',
      secretStringValue: SecretValue.unsafePlainText(NO_CREDENTIAL_YET),
      removalPolicy,
    });
    this.redactionKeySecret = new Secret(this, 'RedactionKey', {
      secretName: redactionKeySecretName(env.name),
      description: 'Key of the pseudonyms (HMAC) in Spine logs and lineage',
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: 'key',
        passwordLength: 64,
        excludePunctuation: true,
      },
      removalPolicy,
    });
    const sources = [...new Set(registry.contracts.map((c) => c.source.system))].sort();
    this.webhookSecrets = Object.fromEntries(
      sources.map((source) => [
        source,
        new Secret(this, `Webhook-${source}`, {
          secretName: webhookSecretName(env.name, source),
          description: `Signing secret of ${source} webhooks: {"current", "previous"}; set from the vendor's settings`,
          secretObjectValue: { current: SecretValue.unsafePlainText('') },
          removalPolicy,
        }),
      ]),
    );

    // What enrichment reads a vendor's API with: `{"token"}`, stored by hand like the webhook
    // secrets (a source whose contracts enrich nothing has none).
    const enriching = [
      ...new Set(registry.contracts.filter((c) => c.enrich).map((c) => c.source.system)),
    ].sort();
    this.sourceCredentials = Object.fromEntries(
      enriching.map((source) => [
        source,
        new Secret(this, `SourceCredential-${source}`, {
          secretName: sourceCredentialName(env.name, source),
          description: `API credential of ${source} for enriching thin events: {"token"}, a private app token or restricted key; set by hand`,
          secretObjectValue: { token: SecretValue.unsafePlainText('') },
          removalPolicy,
        }),
      ]),
    );

    for (const secret of [
      this.redactionKeySecret,
      ...Object.values(this.webhookSecrets),
      ...Object.values(this.sourceCredentials),
    ]) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions::AwsSolutions-SMG4',
        reason:
          'Webhook signing secrets and vendor API tokens are issued and rotated by each vendor, then stored here (a signing secret as current and previous); the redaction key must stay stable or lineage pseudonyms stop matching.',
      });
    }
    Validations.of(this.odooSecret).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason:
        'Rotated by the Spine rotation Lambda of the stateless stack, whose rotation schedule points at this secret.',
    });
  }
}
