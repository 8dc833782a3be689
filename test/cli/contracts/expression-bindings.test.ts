import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { JSONATA_FUNCTIONS, MAPPING_BINDINGS } from '../../../cli/contracts/expression-bindings.ts';
import { loadContractRegistry } from '../../../functions/contracts/index.ts';
import { evaluateExpression } from '../../../functions/contracts/mapping.ts';

describe('the bindings lint knows', () => {
  it('are what the runtime binds for every contract expression', async () => {
    const contract = loadContractRegistry().contracts[0];
    if (!contract) throw new Error('no compiled contract');
    const context = { entityKey: 'k', eventId: 'e', source: 's', account: 'a' };
    for (const name of MAPPING_BINDINGS) {
      const value = await evaluateExpression(
        contract,
        `binding ${name}`,
        `$type($${name})`,
        {},
        context,
      );
      expect([name, value]).not.toEqual([name, undefined]);
    }
  });

  it("are JSONata's own functions", async () => {
    for (const name of JSONATA_FUNCTIONS)
      expect([name, await jsonata(`$type($${name})`).evaluate({})]).toEqual([name, 'function']);
  });
});
