/**
 * The Odoo emulator's persistence before it had a journal, kept as the drain benchmark's
 * baseline: after every committed transaction the whole database is written again as one
 * JSON snapshot, so a write costs what the database holds.
 */
import { statSync } from 'node:fs';
import type { CommitLog, Database } from '../local/odoo/database.ts';

export class SnapshotPerWrite implements CommitLog {
  /** Bytes of the snapshots written so far. */
  bytesWritten = 0;

  constructor(
    private readonly db: Database,
    private readonly file: string,
    private readonly secrets: () => unknown,
  ) {}

  committed(): void {
    // The commit log runs before the transaction ends, when the database already holds it.
    this.db.saveTo(this.file, this.secrets());
    this.bytesWritten += statSync(this.file).size;
  }
}
