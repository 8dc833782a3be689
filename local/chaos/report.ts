/** The chaos report as a person reads it: the counts first, then what failed, with examples. */
import type { ChaosReport } from './chaos.ts';
import type { Finding } from './verdict.ts';

const EXAMPLES = 8;

function examples(title: string, findings: readonly Finding[]): string[] {
  if (findings.length === 0) return [];
  return [
    `  ${title} (${findings.length}):`,
    ...findings.slice(0, EXAMPLES).map((f) => `    - ${f.detail}`),
    ...(findings.length > EXAMPLES
      ? [`    … and ${findings.length - EXAMPLES} more (--json lists all)`]
      : []),
  ];
}

export function formatChaosReport(report: ChaosReport): string[] {
  const row = (label: string, value: string | number, note = '') =>
    `  ${label.padEnd(22)} ${String(value).padStart(7)}${note ? `  ${note}` : ''}`;
  const refusals = Object.entries(report.gateway.refusals)
    .map(([status, n]) => `${n} × ${status}`)
    .join(', ');
  const reasons = Object.entries(report.skippedReasons)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `      ${String(n).padStart(6)}  ${reason}`);
  const lines = [
    `chaos run, seed ${report.seed}: ${report.phases.join(' → ')}${report.rotation ? '; credential rotated' : ''}${report.kills ? `; kill -9 and restart × ${report.kills}` : ''}`,
    ...(report.runtime.clockMissing.length
      ? [
          `  (spine local took none of ${report.runtime.clockMissing.join(', ')}: its default clock)`,
        ]
      : []),
    ...(report.runtime.stalls === 'not in this emulator'
      ? ['  (stalls asked for, but this Odoo emulator has none: no worker timed out on a stall)']
      : []),
    '',
    row('sent', report.sent, `unique events answered 2xx, of ${report.planned.events} planned`),
    row('applied', report.applied),
    row(
      'duplicates suppressed',
      report.duplicatesSuppressed,
      `of ${report.duplicatesSent} re-deliveries`,
    ),
    row('stale skipped', report.staleSkipped, 'older than the newest change, said lineage'),
    row('skipped', report.skipped, 'with a reason:'),
    ...reasons,
    row('replayed', report.replayed, 'from the DLQs'),
    row('dead-lettered', report.deadLettered, 'still in a DLQ at the end'),
    row('parked', report.parked),
    row('quarantined', report.quarantined),
    ...(report.ignored ? [row('ignored', report.ignored, 'no contract routes their type')] : []),
    row('not compared', report.notCompared, 'entities whose newest event never reached Odoo'),
    '',
    row('lost', report.lost, report.lost ? 'FAIL' : 'ok'),
    row(
      'stuck',
      report.stuck,
      report.stuck ? 'FAIL: dead-lettered or parked after the replays' : 'ok',
    ),
    row('duplicated', report.duplicated, report.duplicated ? 'FAIL' : 'ok'),
    row('stale overwrites', report.staleOverwrites, report.staleOverwrites ? 'FAIL' : 'ok'),
    row('wrong values', report.wrongValues, report.wrongValues ? 'FAIL' : 'ok'),
    row('lines not as sent', report.linesNotAsSent, report.linesNotAsSent ? 'FAIL' : 'ok'),
    row('missing records', report.missingRecords, report.missingRecords ? 'FAIL' : 'ok'),
    row(
      'reconcile',
      report.reconcile.clean ? 'clean' : 'MISMATCH',
      `days ${report.reconcile.days.join(', ')}`,
    ),
    row('queues drained', report.drained ? 'yes' : 'NO'),
    row(
      'gateway POSTs',
      report.gateway.attempts,
      refusals ? `not 2xx: ${refusals}` : 'every one answered 2xx',
    ),
  ];
  const details = [
    ...examples('lost', report.findings.lost),
    ...examples('stuck', report.findings.stuck),
    ...examples('duplicated', report.findings.duplicated),
    ...examples('stale overwrites', report.findings.staleOverwrites),
    ...examples('wrong values', report.findings.wrongValues),
    ...examples('lines not as sent', report.findings.linesNotAsSent),
    ...examples('missing records', report.findings.missingRecords),
    ...examples(
      'reconcile',
      report.reconcile.mismatches.map((detail) => ({ kind: 'reconcile', detail })),
    ),
    ...examples(
      'given up (never answered 2xx)',
      report.gateway.givenUp.map((detail) => ({ kind: 'given up', detail })),
    ),
    ...examples(
      '5xx to authentic events while the runtime was up',
      report.gateway.serverErrors.map((detail) => ({ kind: '5xx', detail })),
    ),
  ];
  return [
    ...lines,
    ...(details.length ? ['', ...details] : []),
    '',
    report.ok
      ? 'exactly once: proven for this run.'
      : `exactly once: NOT proven — failed: ${report.failed.join(', ')}.`,
    ...(report.runtime.kept ? [`state kept in ${report.runtime.dataDir}`] : []),
  ];
}
