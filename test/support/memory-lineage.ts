/** An in-memory LineageStore for tests of the domain code (the DynamoDB adapter has its own tests). */
import {
  type ClaimRelease,
  type EntityClaim,
  type EntityState,
  type HeldClaim,
  isNewerChange,
  type LineageEntry,
  type LineageStore,
} from '../../functions/lineage/model.ts';

export class MemoryLineageStore implements LineageStore {
  readonly entries: LineageEntry[] = [];
  readonly states = new Map<string, EntityState>();
  readonly naturalKeyLocks = new Map<string, { token: string; until: string }>();

  async record(entries: readonly LineageEntry[], releases: readonly ClaimRelease[] = []) {
    this.entries.push(...entries);
    for (const r of releases)
      await this.releaseEntity(r.contractId, r.entityKey, r.claim.claimToken);
  }

  async byEvent(source: string, eventId: string) {
    return this.entries.filter((e) => e.source === source && e.eventId === eventId);
  }

  async byRecord(model: string, recordId: number) {
    return this.entries.filter((e) => e.model === model && e.recordId === recordId);
  }

  async byCorrelation(correlationId: string) {
    return this.entries.filter((e) => e.correlationId === correlationId);
  }

  async appliedOn(contract: string, day: string) {
    return this.entries.filter(
      (e) =>
        e.stage === 'applied' &&
        e.contract?.startsWith(`${contract.split('@')[0]}@`) &&
        e.occurredAt?.startsWith(day),
    );
  }

  async entityState(contractId: string, entityKey: string) {
    return this.states.get(`${contractId}#${entityKey}`);
  }

  async claimEntity(
    contractId: string,
    entityKey: string,
    claim: HeldClaim,
    now: string,
  ): Promise<EntityClaim> {
    const key = `${contractId}#${entityKey}`;
    const holder = this.states.get(key);
    const granted =
      !holder ||
      ((holder.eventId === claim.eventId || isNewerChange(claim, holder)) &&
        (!holder.claimedUntil || holder.claimedUntil <= now));
    if (!granted) return { claimed: false, holder };
    this.states.set(key, claim);
    return { claimed: true };
  }

  async releaseEntity(contractId: string, entityKey: string, claimToken: string) {
    const key = `${contractId}#${entityKey}`;
    const holder = this.states.get(key);
    if (holder?.claimToken === claimToken)
      this.states.set(key, { occurredAt: holder.occurredAt, eventId: holder.eventId });
  }

  async lockNaturalKey(key: string, token: string, until: string, now: string) {
    const held = this.naturalKeyLocks.get(key);
    if (held && held.until > now && held.token !== token) return false;
    this.naturalKeyLocks.set(key, { token, until });
    return true;
  }

  async unlockNaturalKey(key: string, token: string) {
    if (this.naturalKeyLocks.get(key)?.token === token) this.naturalKeyLocks.delete(key);
  }
}
