import { describe, expect, it } from 'vitest';
import {
  billedGbSeconds,
  type CountsPerEvent,
  dollarsPerMillionEvents,
  loadPrices,
  type PriceTable,
  replayDollarsPerMillion,
  sqsRequestUnits,
} from '../../bench/cost-model.ts';

const prices: PriceTable = {
  priced: '2026-12-02',
  region: 'eu-west-1',
  apiGatewayHttpPerMillionRequests: 1,
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.00001,
  sqsStandardPerMillionRequests: 0.4,
  sqsFifoPerMillionRequests: 0.5,
  dynamodbPerMillionWriteUnits: 0.5,
  dynamodbPerMillionReadUnits: 0.1,
  stepFunctionsPerThousandTransitions: 0.025,
  logsIngestionPerGb: 0.5,
  xrayPerMillionTracesRecorded: 5,
};

describe('the cost model', () => {
  it('prices what one event made each service do, per million events', () => {
    const counts: CountsPerEvent = {
      apiRequests: 1,
      lambdaInvocations: 1.1,
      lambdaGbSeconds: 0.02,
      sqsStandardRequests: 1.2,
      sqsFifoRequests: 0.5,
      dynamodbWriteUnits: 6,
      dynamodbReadUnits: 2,
      logBytes: 2 ** 30 / 1e6,
      traces: 0.1,
    };
    const { lines, total } = dollarsPerMillionEvents(counts, prices);
    expect(lines).toEqual({
      'API Gateway': 1,
      'Lambda requests': expect.closeTo(0.22, 10),
      'Lambda compute': expect.closeTo(0.2, 10),
      SQS: expect.closeTo(0.48 + 0.25, 10),
      'DynamoDB writes': 3,
      'DynamoDB reads': expect.closeTo(0.2, 10),
      'CloudWatch Logs': expect.closeTo(0.5, 10),
      'X-Ray': expect.closeTo(0.5, 10),
    });
    expect(total).toBeCloseTo(1 + 0.22 + 0.2 + 0.73 + 3 + 0.2 + 0.5 + 0.5, 10);
    expect(replayDollarsPerMillion(12, prices)).toBeCloseTo(300, 10);
  });

  it('bills computing time by the memory share of a vCPU, waiting time as it is, by the rounded-up millisecond', () => {
    // 10 ms of CPU at 1769 MB stays 10 ms; at 442.25 MB (a quarter vCPU) it takes 40 ms.
    expect(billedGbSeconds({ wallMs: 30, cpuMs: 10 }, 1769)).toBeCloseTo(0.03 * (1769 / 1024), 12);
    expect(billedGbSeconds({ wallMs: 30, cpuMs: 10 }, 442.25)).toBeCloseTo(
      0.06 * (442.25 / 1024),
      12,
    );
    expect(billedGbSeconds({ wallMs: 0.2, cpuMs: 0 }, 1024)).toBeCloseTo(0.001, 12);
    // Above a vCPU, more memory does not make the code faster.
    expect(billedGbSeconds({ wallMs: 10, cpuMs: 10 }, 3538)).toBeCloseTo(0.01 * (3538 / 1024), 12);
  });

  it('counts an SQS request per 64 KB of its payload', () => {
    expect([0, 1, 65_536, 65_537, 256 * 1024].map(sqsRequestUnits)).toEqual([1, 1, 1, 2, 4]);
  });

  it('reads a dated price table for one region from the repository', () => {
    const table = loadPrices();
    expect(table.priced).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(table.region).toBe('eu-west-1');
    for (const [name, value] of Object.entries(table))
      if (typeof value === 'number') expect(value, name).toBeGreaterThan(0);
  });
});
