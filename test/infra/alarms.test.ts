/**
 * Every alarm of every environment is one an on-call engineer can act on: it e-mails when it
 * clears as well as when it fires, decides on purpose (evaluation periods, datapoints and
 * missing data set on each), and ends with a link to a section of docs/runbook.md that exists.
 * Then the alarms issue 14 asked for, one by one, on the dev template.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compiledRegistry } from '../../functions/contracts/compiled/registry.ts';
import { REJECTION_REASONS } from '../../functions/ingest/rejection-reasons.ts';
import { LINEAGE_TABLE } from '../../functions/platform/tables.ts';
import { DEAD_LETTER_AGE_ALARM } from '../../infra/constructs/flow.ts';
import { cdkContext, synthEnvironment } from './synth.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Resources = Record<string, Resource>;
interface MetricStat {
  readonly MetricName: string;
  readonly Namespace: string;
  readonly Dimensions?: { Name: string; Value: unknown }[];
}
interface MetricQuery {
  readonly Id: string;
  readonly Expression?: string;
  readonly MetricStat?: { Metric: MetricStat; Period: number; Stat: string };
}

const RUNBOOK = readFileSync(new URL('../../docs/runbook.md', import.meta.url), 'utf8');

/** The anchor GitHub (and most Markdown hosts) give a heading: lower case, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');
}
const ANCHORS = new Set([...RUNBOOK.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1] ?? '')));

const alarmsOf = (resources: Resources) =>
  Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');

/** Every metric an alarm reads, whether CDK rendered it inline or as a list of queries. */
function metricsOf(alarm: Resource): MetricStat[] {
  const p = alarm.Properties;
  if (p.MetricName) return [p as unknown as MetricStat];
  return ((p.Metrics ?? []) as MetricQuery[]).flatMap((m) =>
    m.MetricStat ? [m.MetricStat.Metric] : [],
  );
}

const dimensionsOf = (m: MetricStat) =>
  Object.fromEntries((m.Dimensions ?? []).map((d) => [d.Name, d.Value]));

describe('every alarm of every environment', () => {
  const environments = Object.keys(cdkContext.environments);

  it('knows the runbook sections it links to, and the runbook links only to its own', () => {
    expect(ANCHORS.size).toBeGreaterThan(15);
    for (const [, anchor] of RUNBOOK.matchAll(/\]\(#([^)]+)\)/g))
      expect(ANCHORS, `the runbook links to #${anchor}`).toContain(anchor);
  });

  it.each(environments)(
    '%s: notifies when it fires and when it clears, decides on purpose, and links to its runbook section',
    (name) => {
      const { statelessTemplate, stateless } = synthEnvironment(name);
      const alarms = alarmsOf(statelessTemplate.toJSON().Resources as Resources);
      // Every alarm of the template is one Observability sends to the topic.
      expect(alarms).toHaveLength(stateless.observability.alarms.length);
      const sections = new Set<string>();
      for (const alarm of alarms) {
        const p = alarm.Properties;
        const label = String(p.AlarmName);
        expect(p.AlarmActions, label).toHaveLength(1);
        expect(p.OKActions, label).toEqual(p.AlarmActions);
        expect(p.EvaluationPeriods, label).toBeGreaterThanOrEqual(1);
        expect(p.DatapointsToAlarm, label).toBeGreaterThanOrEqual(1);
        expect(p.DatapointsToAlarm as number, label).toBeLessThanOrEqual(
          p.EvaluationPeriods as number,
        );
        expect(['breaching', 'notBreaching'], label).toContain(p.TreatMissingData);
        const description = String(p.AlarmDescription);
        expect(description.length, label).toBeLessThanOrEqual(1024);
        const link = description.match(/ Runbook: docs\/runbook\.md#([a-z0-9-]+)$/);
        expect(link, `${label}: ${description}`).not.toBeNull();
        const anchor = link?.[1] as string;
        expect(ANCHORS, `${label} links to #${anchor}`).toContain(anchor);
        sections.add(anchor);
      }
      // Silence is breaching for the quiet-source alarms alone.
      expect(
        alarms
          .filter((a) => a.Properties.TreatMissingData === 'breaching')
          .map((a) => a.Properties.AlarmName),
      ).toEqual(
        expect.arrayContaining([expect.stringMatching(new RegExp(`^spine-${name}-\\w+-quiet$`))]),
      );
      for (const a of alarms.filter((a) => a.Properties.TreatMissingData === 'breaching'))
        expect(a.Properties.AlarmName).toMatch(/-quiet$/);
      expect(sections.size).toBeGreaterThan(15);
    },
    60_000,
  );

  it('links to the runbook URL an environment names in cdk.json', () => {
    const url = 'https://git.example.com/acme/spine/-/blob/main/docs/runbook.md';
    const { statelessTemplate } = synthEnvironment('dev', {
      ...cdkContext.environments,
      dev: { ...cdkContext.environments.dev, runbookUrl: url },
    });
    const alarms = alarmsOf(statelessTemplate.toJSON().Resources as Resources);
    for (const alarm of alarms)
      expect(String(alarm.Properties.AlarmDescription)).toMatch(
        new RegExp(`Runbook: ${url.replace(/[.]/g, '\\.')}#[a-z0-9-]+$`),
      );
  }, 60_000);

  it.each([
    ['http://git.example.com/runbook.md', 'http'],
    ['https://git.example.com/runbook.md#dead-letters', 'a #section'],
  ])('refuses the runbook URL %s (%s)', (runbookUrl) => {
    expect(() =>
      synthEnvironment('dev', {
        ...cdkContext.environments,
        dev: { ...cdkContext.environments.dev, runbookUrl },
      }),
    ).toThrow(
      `context.environments.dev.runbookUrl: expected the https URL of docs/runbook.md as the team reads it, without a #section, got "${runbookUrl}"`,
    );
  });
});

describe('the alarms an on-call engineer acts on (dev)', () => {
  const dev = synthEnvironment('dev');
  const resources = dev.statelessTemplate.toJSON().Resources as Resources;
  const statefulResources = dev.template.toJSON().Resources as Resources;
  const alarms = alarmsOf(resources);
  const alarmNamed = (name: string) => {
    const alarm = alarms.find((a) => a.Properties.AlarmName === name);
    if (!alarm)
      throw new Error(
        `no alarm ${name}; there are ${alarms.map((a) => a.Properties.AlarmName).join(', ')}`,
      );
    return alarm;
  };
  const sources = [...new Set(compiledRegistry.contracts.map((c) => c.source.system))].sort();
  const idOf = (type: string, match: (p: Record<string, unknown>) => boolean, of = resources) => {
    const found = Object.entries(of).filter(([, r]) => r.Type === type && match(r.Properties));
    if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
    return (found[0] as [string, Resource])[0];
  };

  it('alarms per source on repeated signature mismatches, the series the receiver writes', () => {
    for (const source of sources) {
      const alarm = alarmNamed(`spine-dev-${source}-signature-failures`);
      const [metric, ...others] = metricsOf(alarm);
      expect(others).toEqual([]);
      expect(metric?.MetricName).toBe('rejected');
      // CloudWatch keys on the exact set: service (Powertools), source, reason.
      expect(dimensionsOf(metric as MetricStat)).toEqual({
        service: 'spine',
        source,
        reason: REJECTION_REASONS.signatureMismatch,
      });
      expect(alarm.Properties).toMatchObject({
        Threshold: 1,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('alarms per source when its traffic falls below the band anomaly detection expects', () => {
    for (const source of sources) {
      const p = alarmNamed(`spine-dev-${source}-quiet`).Properties;
      const queries = p.Metrics as MetricQuery[];
      const band = queries.find((q) => q.Id === p.ThresholdMetricId);
      const [, input] = band?.Expression?.match(/^ANOMALY_DETECTION_BAND\((\w+), 2\)$/) ?? [];
      const filled = queries.find((q) => q.Id === input);
      expect(filled?.Expression).toMatch(/^FILL\((\w+), 0\)$/);
      const received = queries.find((q) => q.MetricStat);
      expect(received?.MetricStat).toMatchObject({ Period: 3600, Stat: 'Sum' });
      expect(received?.MetricStat?.Metric.MetricName).toBe('received');
      expect(dimensionsOf(received?.MetricStat?.Metric as MetricStat)).toEqual({
        service: 'spine',
        source,
      });
      expect(p).toMatchObject({
        ComparisonOperator: 'LessThanLowerThreshold',
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        TreatMissingData: 'breaching',
      });
    }
  });

  it('alarms per source on deliveries refused for want of a secret, and leaves them out of the 5xx rate', () => {
    for (const source of sources) {
      const [metric] = metricsOf(alarmNamed(`spine-dev-${source}-not-configured`));
      expect(dimensionsOf(metric as MetricStat)).toEqual({
        service: 'spine',
        source,
        reason: REJECTION_REASONS.notConfigured,
      });
    }
    const rate = alarmNamed('spine-dev-receiver5xx');
    const queries = rate.Properties.Metrics as MetricQuery[];
    expect(queries[0]?.Expression).toBe(
      'IF(requests > 0, 100 * IF(errors > unconfigured, errors - unconfigured, 0) / requests, 0)',
    );
    const unconfigured = queries.find((q) => q.Id === 'unconfigured')?.Expression ?? '';
    const subtracted = queries.filter((q) => unconfigured.includes(`FILL(${q.Id}, 0)`));
    expect(subtracted.map((q) => dimensionsOf(q.MetricStat?.Metric as MetricStat)).sort()).toEqual(
      sources.map((source) => ({
        service: 'spine',
        source,
        reason: REJECTION_REASONS.notConfigured,
      })),
    );
    expect(queries.find((q) => q.Id === 'errors')?.MetricStat?.Metric).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
    });
  });

  /** The queue a metric's QueueName names: by name, or by a reference to the stateful stack's queue. */
  const queueOf = (metric: MetricStat | undefined) => {
    const value = dimensionsOf(metric as MetricStat).QueueName;
    if (typeof value === 'string') return value;
    const ref = JSON.stringify(value);
    const [id] =
      Object.entries(statefulResources).find(
        ([id, r]) => r.Type === 'AWS::SQS::Queue' && ref.includes(id),
      ) ?? [];
    return statefulResources[id ?? '']?.Properties.QueueName;
  };

  it("alarms on each flow's parked events and on a dead letter a week before SQS deletes it", () => {
    for (const flow of compiledRegistry.flows) {
      const dlqName = `spine-dev-${flow.name}-dlq${flow.fifo ? '.fifo' : ''}`;
      const dlq = statefulResources[
        idOf('AWS::SQS::Queue', (p) => p.QueueName === dlqName, statefulResources)
      ] as Resource;
      const age = alarmNamed(`spine-dev-${flow.name}-dead-letter-age`);
      const [metric] = metricsOf(age);
      expect(metric?.MetricName).toBe('ApproximateAgeOfOldestMessage');
      expect(queueOf(metric)).toBe(dlqName);
      expect(age.Properties.Threshold).toBe(DEAD_LETTER_AGE_ALARM.toSeconds());
      // Half the retention at most: a week left to fix and replay.
      expect(age.Properties.Threshold as number).toBeLessThanOrEqual(
        (dlq.Properties.MessageRetentionPeriod as number) / 2,
      );
      const parkingName = `spine-dev-${flow.name}-parking${flow.fifo ? '.fifo' : ''}`;
      const [parked] = metricsOf(alarmNamed(`spine-dev-${flow.name}-parked`));
      expect(parked?.MetricName).toBe('ApproximateNumberOfMessagesVisible');
      expect(queueOf(parked)).toBe(parkingName);
    }
  });

  it('alarms on throttles of every Spine function', () => {
    const functions = Object.entries(resources).filter(
      ([, r]) =>
        r.Type === 'AWS::Lambda::Function' &&
        String(r.Properties.FunctionName).startsWith('spine-'),
    );
    expect(functions.length).toBe(4 + compiledRegistry.flows.length);
    const throttled = alarms
      .flatMap(metricsOf)
      .filter((m) => m.Namespace === 'AWS/Lambda' && m.MetricName === 'Throttles')
      .map((m) => JSON.stringify(m.Dimensions));
    for (const [id, fn] of functions)
      expect(
        throttled.filter((d) => d.includes(`"${id}"`)),
        String(fn.Properties.FunctionName),
      ).toHaveLength(1);
  });

  it('alarms on DynamoDB throttling of both tables and every lineage index', () => {
    for (const [table, indexes] of [
      ['lineage', LINEAGE_TABLE.indexes.map((i) => i.name)],
      ['idempotency', []],
    ] as const) {
      const tableId = idOf(
        'AWS::DynamoDB::Table',
        (p) => p.TableName === `spine-dev-${table}`,
        statefulResources,
      );
      const read = metricsOf(alarmNamed(`spine-dev-${table}-table-throttles`)).map((m) => [
        m.MetricName,
        dimensionsOf(m).GlobalSecondaryIndexName ?? 'table',
      ]);
      expect(read.sort()).toEqual(
        ['table', ...indexes]
          .flatMap((on) => [
            ['ReadThrottleEvents', on],
            ['WriteThrottleEvents', on],
          ])
          .sort(),
      );
      expect(JSON.stringify(alarmNamed(`spine-dev-${table}-table-throttles`))).toContain(tableId);
    }
  });

  it('alarms on replay executions that failed and on those that timed out', () => {
    const [failed] = metricsOf(alarmNamed('spine-dev-replay-failure'));
    const [timedOut] = metricsOf(alarmNamed('spine-dev-replay-timed-out'));
    expect([failed?.MetricName, timedOut?.MetricName]).toEqual([
      'ExecutionsFailed',
      'ExecutionsTimedOut',
    ]);
    for (const m of [failed, timedOut]) expect(m?.Namespace).toBe('AWS/States');
  });
});
