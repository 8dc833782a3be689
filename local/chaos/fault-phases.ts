/**
 * The phases of a chaos run: a calm start, then each chosen Odoo fault on its own (so a broken
 * invariant points at the fault that broke it), then the rate-based ones together. The plans are
 * the Odoo emulator's FaultPlan, set through POST /_emulator/faults while traffic flows.
 */
import { readFileSync } from 'node:fs';
import type { FaultPlan } from '../odoo/faults.ts';
import type { FaultKind } from './options.ts';

/** The emulator's plan, with the stalls a newer emulator takes (a call that hangs, then commits). */
export type ChaosFaultPlan = FaultPlan & {
  readonly stall?: { readonly rate: number; readonly ms: number };
};

export interface FaultPhase {
  readonly name: string;
  readonly plan: ChaosFaultPlan;
  /** Rotate the Odoo credential (RotateSecret) as the phase starts. */
  readonly rotate?: boolean;
}

/** Whether this emulator knows stalls: its fault plan mentions them. */
export function emulatorStalls(): boolean {
  const source = readFileSync(new URL('../odoo/faults.ts', import.meta.url), 'utf8');
  return /\bstall\b/.test(source);
}

const TRANSPORT: Partial<Record<FaultKind, FaultPlan['transport']>> = {
  drop: { rate: 0, kind: 'drop' },
  '429': { rate: 0, kind: 429, retryAfterSeconds: 1 },
  '500': { rate: 0, kind: 500 },
  '502': { rate: 0, kind: 502 },
  '503': { rate: 0, kind: 503 },
  '504': { rate: 0, kind: 504 },
};

export function faultPhases(options: {
  readonly kinds: readonly FaultKind[];
  /** Share (0..1) of calls a rate-based fault hits. */
  readonly rate: number;
  readonly seed: number;
  /** How long a stalled Odoo call hangs: longer than the worker's timeout. */
  readonly stallMs: number;
}): FaultPhase[] {
  const { kinds, rate } = options;
  let seed = options.seed;
  const phases: FaultPhase[] = [{ name: 'calm', plan: {} }];
  const planOf = (kind: FaultKind): ChaosFaultPlan | undefined => {
    const transport = TRANSPORT[kind];
    if (transport) return { transport: { ...transport, rate } };
    switch (kind) {
      case 'lock':
        return { errorRate: { lock: rate } };
      case 'server':
        return { errorRate: { server: rate } };
      case 'validation':
        return { errorRate: { validation: rate } };
      // An access denial that is not a rotation: permanent, dead-lettered, then replayed.
      case 'access':
        return { errorRate: { access: rate } };
      // Odoo kills a call past limit_time_real: nothing commits, the connection drops.
      case 'request-limit':
        return {
          requestLimitMs: Math.round(options.stallMs / 2),
          stall: { rate: rate / 4, ms: options.stallMs },
        };
      // Odoo takes no writes at all for a while: everything is retried, then dead-lettered.
      case 'outage':
        return { failWrites: true };
      case 'commit-then-fail':
        return { commitThenFail: rate };
      case 'latency':
        return { latencyMs: 40 };
      case 'stall':
        return { stall: { rate: rate / 4, ms: options.stallMs } };
      default:
        return undefined;
    }
  };
  for (const kind of kinds) {
    if (kind === 'rotation') continue;
    phases.push({ name: kind, plan: { ...planOf(kind), seed: ++seed } });
  }
  // Together: the last transport fault chosen, locks, lost answers, latency and stalls at once.
  const together: ChaosFaultPlan[] = kinds
    .filter(
      (k) => !['server', 'validation', 'access', 'outage', 'rotation', 'request-limit'].includes(k),
    )
    .map((k) => planOf(k) ?? {});
  if (together.length > 1) {
    const merged = Object.assign({}, ...together) as ChaosFaultPlan;
    phases.push({ name: 'together', plan: { ...merged, seed: ++seed } });
  }
  // A rotation lands in the middle of the traffic, while faults are on.
  if (kinds.includes('rotation')) {
    const at = Math.min(phases.length - 1, Math.max(1, Math.floor(phases.length / 2)));
    const phase = phases[at] as FaultPhase;
    phases[at] = { ...phase, name: `${phase.name}+rotation`, rotate: true };
  }
  return phases;
}
