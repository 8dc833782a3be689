/**
 * The emulator's durability: each committed transaction is appended to `<snapshot>.journal` as
 * one JSON line (the rows it touched, in their final state) before its answer is sent; at start
 * the snapshot is loaded, the journal replayed and both folded into a new snapshot, and again
 * whenever the journal outgrows the snapshot. A write therefore costs what it touched, and
 * compaction, proportional to the database, happens once per snapshot's worth of journal.
 *
 * No fsync per commit: the emulator must survive `kill -9` of its process, and a plain append
 * is in the kernel's page cache, which outlives the process, when `writeSync` returns. Power
 * loss is real Odoo's business (PostgreSQL fsyncs); an fsync per write would cost milliseconds
 * per call on a shared disk and cap how fast the local workers drain. The snapshot is fsynced
 * before it replaces the old one, which costs nothing per write.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import type { CommitLog, CommittedTransaction, Database, Row } from './database.ts';

/** One line of the journal. */
interface JournalLine {
  /** Rows touched: model, id, final state or null when deleted. */
  r: [string, number, Row | null][];
  /** Sequences moved, at their value after the commit. */
  s: Record<string, number>;
  /** The credentials, when they changed. */
  u?: unknown;
}

export const journalFileOf = (snapshotFile: string) => `${snapshotFile}.journal`;

/** The committed transactions of a journal file, in order; a torn last line is ignored. */
export function* readJournal(
  file: string,
): Generator<CommittedTransaction & { readonly storedSecrets?: unknown }> {
  if (!existsSync(file)) return;
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    if (text.trim() === '') continue;
    let line: JournalLine;
    try {
      line = JSON.parse(text) as JournalLine;
    } catch {
      // A line cut short by a kill mid-write was never answered: it and nothing after it counts.
      return;
    }
    yield {
      rows: line.r,
      sequences: line.s,
      secrets: 'u' in line,
      ...('u' in line ? { storedSecrets: line.u } : {}),
    };
  }
}

export interface JournalOptions {
  /**
   * Fold the journal into the snapshot once it holds this many bytes, or the snapshot's size
   * if larger (so compaction stays a constant share of the bytes written). @default 16 MiB
   */
  readonly compactAfterBytes?: number;
}

export class OdooJournal implements CommitLog {
  private fd: number | undefined;
  private journalBytes = 0;
  private snapshotBytes = 0;
  /** Bytes appended to the journal since it was opened (what writes cost). */
  appendedBytes = 0;
  /** Bytes written by compactions since it was opened. */
  compactedBytes = 0;

  private constructor(
    private readonly snapshotFile: string,
    private readonly db: Database,
    private readonly secrets: () => unknown,
    private readonly compactAfterBytes: number,
  ) {}

  /**
   * Starts journaling `db` beside `snapshotFile`. The database must already hold what the
   * snapshot and journal stored (`db.loadFrom`): they are compacted into a fresh snapshot first.
   */
  static open(
    snapshotFile: string,
    db: Database,
    secrets: () => unknown,
    options: JournalOptions = {},
  ): OdooJournal {
    const journal = new OdooJournal(
      snapshotFile,
      db,
      secrets,
      options.compactAfterBytes ?? 16 * 2 ** 20,
    );
    journal.fd = openSync(journalFileOf(snapshotFile), 'a');
    journal.compact();
    db.logTo(journal);
    return journal;
  }

  committed(transaction: CommittedTransaction): void {
    if (this.fd === undefined) throw new Error('the Odoo emulator journal is closed');
    const line: JournalLine = { r: transaction.rows as JournalLine['r'], s: transaction.sequences };
    if (transaction.secrets) line.u = this.secrets();
    const text = `${JSON.stringify(line)}\n`;
    const bytes = Buffer.byteLength(text);
    try {
      writeSync(this.fd, text);
    } catch (error) {
      // Leave no torn line behind for the next commit to be glued to.
      ftruncateSync(this.fd, this.journalBytes);
      throw error;
    }
    this.journalBytes += bytes;
    this.appendedBytes += bytes;
    if (this.journalBytes > Math.max(this.compactAfterBytes, this.snapshotBytes)) {
      try {
        this.compact();
      } catch {
        // The transaction is in the journal already, so it stands: compact at a later commit.
      }
    }
  }

  /** Writes the whole database as the new snapshot and empties the journal. */
  compact(): void {
    if (this.fd === undefined) return;
    const temporary = `${this.snapshotFile}.tmp`;
    const text = JSON.stringify(this.db.snapshot(this.secrets()));
    const fd = openSync(temporary, 'w');
    try {
      writeSync(fd, text);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // Killed between the rename and the truncation, the journal is replayed over a snapshot
    // that already holds it: rows are final states and sequences only move up, so no harm.
    renameSync(temporary, this.snapshotFile);
    ftruncateSync(this.fd, 0);
    this.snapshotBytes = Buffer.byteLength(text);
    this.compactedBytes += this.snapshotBytes;
    this.journalBytes = 0;
  }

  /** Stops journaling; the journal stays as it is, to be replayed at the next start. */
  close(): void {
    this.db.logTo(undefined);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
