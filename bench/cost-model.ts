/**
 * The cost model: what one event makes each AWS service do, counted in a local run, priced by
 * the dated list-price table beside it (bench/prices.json). Only arithmetic lives here; the
 * counting is bench/cost.bench.ts, and test/bench/cost-model.test.ts checks the sums.
 */
import { readFileSync } from 'node:fs';

export interface PriceTable {
  /** When the prices were read (YYYY-MM-DD). */
  readonly priced: string;
  readonly region: string;
  readonly apiGatewayHttpPerMillionRequests: number;
  readonly lambdaPerMillionRequests: number;
  readonly lambdaArmPerGbSecond: number;
  readonly sqsStandardPerMillionRequests: number;
  readonly sqsFifoPerMillionRequests: number;
  readonly dynamodbPerMillionWriteUnits: number;
  readonly dynamodbPerMillionReadUnits: number;
  readonly stepFunctionsPerThousandTransitions: number;
  readonly logsIngestionPerGb: number;
  readonly xrayPerMillionTracesRecorded: number;
}

export function loadPrices(): PriceTable {
  return JSON.parse(readFileSync(new URL('./prices.json', import.meta.url), 'utf8')) as PriceTable;
}

/** What a run counted, in billing units, divided by the events it carried. */
export interface CountsPerEvent {
  readonly apiRequests: number;
  readonly lambdaInvocations: number;
  readonly lambdaGbSeconds: number;
  /** SQS requests, each 64 KB of payload counted as one, on standard and FIFO queues. */
  readonly sqsStandardRequests: number;
  readonly sqsFifoRequests: number;
  readonly dynamodbWriteUnits: number;
  readonly dynamodbReadUnits: number;
  readonly logBytes: number;
  readonly traces: number;
}

export type CostLine =
  | 'API Gateway'
  | 'Lambda requests'
  | 'Lambda compute'
  | 'SQS'
  | 'DynamoDB writes'
  | 'DynamoDB reads'
  | 'CloudWatch Logs'
  | 'X-Ray';

/** Dollars per million events, per service and in all. */
export function dollarsPerMillionEvents(
  counts: CountsPerEvent,
  prices: PriceTable,
): { readonly lines: Readonly<Record<CostLine, number>>; readonly total: number } {
  const lines: Record<CostLine, number> = {
    'API Gateway': counts.apiRequests * prices.apiGatewayHttpPerMillionRequests,
    'Lambda requests': counts.lambdaInvocations * prices.lambdaPerMillionRequests,
    'Lambda compute': counts.lambdaGbSeconds * 1e6 * prices.lambdaArmPerGbSecond,
    SQS:
      counts.sqsStandardRequests * prices.sqsStandardPerMillionRequests +
      counts.sqsFifoRequests * prices.sqsFifoPerMillionRequests,
    'DynamoDB writes': counts.dynamodbWriteUnits * prices.dynamodbPerMillionWriteUnits,
    'DynamoDB reads': counts.dynamodbReadUnits * prices.dynamodbPerMillionReadUnits,
    'CloudWatch Logs': ((counts.logBytes * 1e6) / 2 ** 30) * prices.logsIngestionPerGb,
    'X-Ray': counts.traces * prices.xrayPerMillionTracesRecorded,
  };
  return { lines, total: Object.values(lines).reduce((sum, v) => sum + v, 0) };
}

/** Dollars per million replayed events: the replay state machine's transitions. */
export function replayDollarsPerMillion(transitionsPerEvent: number, prices: PriceTable): number {
  return transitionsPerEvent * 1000 * prices.stepFunctionsPerThousandTransitions;
}

/** A vCPU's worth of memory: below it, Lambda gives a function that share of one core. */
export const FULL_VCPU_MB = 1769;

/**
 * GB-seconds Lambda bills for one invocation measured locally: the time spent computing grows
 * as the memory's share of a vCPU shrinks (a local core taken as one Graviton vCPU); the time
 * spent waiting does not. Billed by the millisecond, rounded up.
 */
export function billedGbSeconds(
  measured: { readonly wallMs: number; readonly cpuMs: number },
  memoryMb: number,
): number {
  const cpuMs = Math.min(measured.cpuMs, measured.wallMs);
  const onLambdaMs = cpuMs * Math.max(1, FULL_VCPU_MB / memoryMb) + (measured.wallMs - cpuMs);
  return (Math.ceil(onLambdaMs) / 1000) * (memoryMb / 1024);
}

/** One SQS request as billed: each 64 KB chunk of its payload is a request. */
export const sqsRequestUnits = (payloadBytes: number) =>
  Math.max(1, Math.ceil(payloadBytes / 65_536));
