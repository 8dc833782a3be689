/**
 * The emulator's storage: one table per model, rows of stored values, and transactions that
 * roll back on error like a PostgreSQL transaction (one RPC call = one transaction). A
 * committed transaction is handed to a commit log (the journal) as the rows it touched, so
 * persisting a write costs what the write touched, not what the database holds.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { journalFileOf, readJournal } from './journal.ts';

export type Row = Record<string, unknown> & { id: number };

export interface Snapshot {
  tables: Record<string, Row[]>;
  sequences: Record<string, number>;
  secrets: unknown;
}

/** A committed transaction: the final state of each row it touched (`null`: deleted). */
export interface CommittedTransaction {
  readonly rows: readonly (readonly [model: string, id: number, row: Row | null])[];
  /** Sequences moved since the last logged commit, at their current value. */
  readonly sequences: Readonly<Record<string, number>>;
  /** Whether the credentials (kept beside the tables) changed. */
  readonly secrets: boolean;
}

/** Where committed transactions go: the journal, or the bench's whole-snapshot baseline. */
export interface CommitLog {
  /** Called before the transaction counts as committed: if it throws, the transaction rolls back. */
  committed(transaction: CommittedTransaction): void;
}

/** A change in the open transaction: the row it touched and how to undo it. */
interface Change {
  readonly model: string;
  readonly id: number;
  readonly revert: () => void;
}

/** A secondary index: rows of one model by a key computed from the row. */
interface Index {
  readonly key: (row: Row) => string | undefined;
  readonly ids: Map<string, Set<number>>;
}

export class Database {
  private tables = new Map<string, Map<number, Row>>();
  /** Per model, its indexes by name ('' is the model's main index). */
  private readonly indexes = new Map<string, Map<string, Index>>();
  private sequences = new Map<string, number>();
  private undo: Change[] | undefined;
  private savepoints: number[] = [];
  private readonly movedSequences = new Set<string>();
  private secretsChanged = false;
  private log: CommitLog | undefined;

  table(model: string): Map<number, Row> {
    let table = this.tables.get(model);
    if (!table) {
      table = new Map();
      this.tables.set(model, table);
    }
    return table;
  }

  /** Next value of a named sequence (record ids, document numbers). */
  next(sequence: string): number {
    // Sequences are not rolled back, as in PostgreSQL: an id is never handed out twice.
    const value = (this.sequences.get(sequence) ?? 0) + 1;
    this.sequences.set(sequence, value);
    this.movedSequences.add(sequence);
    return value;
  }

  /**
   * Keeps rows of `model` findable by `key` (e.g. external ids by module and name, lines by
   * their parent); `name` tells several indexes of one model apart.
   */
  defineIndex(model: string, key: (row: Row) => string | undefined, name = ''): void {
    const index: Index = { key, ids: new Map() };
    let indexes = this.indexes.get(model);
    if (!indexes) {
      indexes = new Map();
      this.indexes.set(model, indexes);
    }
    indexes.set(name, index);
    for (const row of this.table(model).values()) this.indexRow(index, row, 'add');
  }

  hasIndex(model: string, name = ''): boolean {
    return Boolean(this.indexes.get(model)?.has(name));
  }

  /** Ids of `model` rows whose index key is `key`. */
  lookup(model: string, key: string, name = ''): number[] {
    return [...(this.indexes.get(model)?.get(name)?.ids.get(key) ?? [])];
  }

  private indexRows(model: string, row: Row, action: 'add' | 'remove'): void {
    const indexes = this.indexes.get(model);
    if (indexes) for (const index of indexes.values()) this.indexRow(index, row, action);
  }

  private indexRow(index: Index, row: Row, action: 'add' | 'remove'): void {
    const key = index.key(row);
    if (key === undefined) return;
    let ids = index.ids.get(key);
    if (action === 'add') {
      if (!ids) {
        ids = new Set();
        index.ids.set(key, ids);
      }
      ids.add(row.id);
    } else if (ids) {
      ids.delete(row.id);
      if (ids.size === 0) index.ids.delete(key);
    }
  }

  private put(model: string, row: Row): void {
    this.table(model).set(row.id, row);
    this.indexRows(model, row, 'add');
  }

  private remove(model: string, row: Row): void {
    this.table(model).delete(row.id);
    this.indexRows(model, row, 'remove');
  }

  private assign(model: string, row: Row, values: Record<string, unknown>): void {
    this.indexRows(model, row, 'remove');
    Object.assign(row, values);
    this.indexRows(model, row, 'add');
  }

  private changed(model: string, id: number, revert: () => void): void {
    if (this.undo) this.undo.push({ model, id, revert });
    // A change outside any transaction commits on its own, as in autocommit mode.
    else this.commit([{ model, id, revert }]);
  }

  insert(model: string, row: Row): void {
    this.put(model, row);
    this.changed(model, row.id, () => this.remove(model, row));
  }

  update(model: string, id: number, values: Record<string, unknown>): void {
    const row = this.table(model).get(id);
    if (!row) return;
    const before: Record<string, unknown> = {};
    for (const key of Object.keys(values)) before[key] = row[key];
    this.assign(model, row, values);
    this.changed(model, id, () => this.assign(model, row, before));
  }

  delete(model: string, id: number): void {
    const row = this.table(model).get(id);
    if (!row) return;
    this.remove(model, row);
    this.changed(model, id, () => this.put(model, row));
  }

  /** Notes that the credentials kept beside the tables changed in this transaction. */
  markSecretsChanged(): void {
    this.secretsChanged = true;
    if (!this.undo) this.commit([]);
  }

  /** Sends committed transactions to `log` (undefined: keep them in memory only); answers the previous log. */
  logTo(log: CommitLog | undefined): CommitLog | undefined {
    const previous = this.log;
    this.log = log;
    return previous;
  }

  /** Runs `work` as one transaction: every change is undone if it throws. */
  transaction<T>(work: () => T): T {
    if (this.undo) return work();
    this.undo = [];
    try {
      const result = work();
      this.commit(this.undo);
      this.undo = undefined;
      return result;
    } catch (error) {
      this.rollbackTo(0);
      this.undo = undefined;
      this.secretsChanged = false;
      throw error;
    }
  }

  /**
   * Hands the rows the changes touched, in their final state, to the commit log. Changes
   * undone by a savepoint are no longer in the list, so they cost nothing.
   */
  private commit(changes: readonly Change[]): void {
    if (changes.length === 0 && !this.secretsChanged) return;
    if (this.log) {
      const touched = new Map<string, Set<number>>();
      for (const { model, id } of changes) {
        let ids = touched.get(model);
        if (!ids) {
          ids = new Set();
          touched.set(model, ids);
        }
        ids.add(id);
      }
      const rows: [string, number, Row | null][] = [];
      for (const [model, ids] of touched) {
        const table = this.table(model);
        for (const id of ids) rows.push([model, id, table.get(id) ?? null]);
      }
      const sequences: Record<string, number> = {};
      for (const name of this.movedSequences) sequences[name] = this.sequences.get(name) ?? 0;
      this.log.committed({ rows, sequences, secrets: this.secretsChanged });
    }
    this.movedSequences.clear();
    this.secretsChanged = false;
  }

  /** Runs `work` in a savepoint: its changes are undone if it throws, the rest of the transaction stays. */
  savepoint<T>(work: () => T): T {
    if (!this.undo) return this.transaction(work);
    const mark = this.undo.length;
    this.savepoints.push(mark);
    try {
      return work();
    } catch (error) {
      this.rollbackTo(mark);
      throw error;
    } finally {
      this.savepoints.pop();
    }
  }

  /** Undoes everything since the savepoint mark, newest first. */
  rollbackTo(mark: number): void {
    const undo = this.undo ?? [];
    while (undo.length > mark) undo.pop()?.revert();
  }

  get savepointMark(): number {
    return this.undo?.length ?? 0;
  }

  /** Replays a committed transaction read back from a journal. */
  apply(transaction: CommittedTransaction): void {
    for (const [model, id, row] of transaction.rows) {
      const current = this.table(model).get(id);
      if (current) this.remove(model, current);
      if (row) this.put(model, row);
    }
    // A journal replayed over a snapshot that already holds it must not move a sequence back.
    for (const [name, value] of Object.entries(transaction.sequences))
      this.sequences.set(name, Math.max(value, this.sequences.get(name) ?? 0));
  }

  snapshot(secrets: unknown): Snapshot {
    const tables: Record<string, Row[]> = {};
    for (const [model, table] of this.tables) tables[model] = [...table.values()];
    return { tables, sequences: Object.fromEntries(this.sequences), secrets };
  }

  restore(snapshot: Snapshot): unknown {
    this.tables = new Map(
      Object.entries(snapshot.tables).map(([model, rows]) => [
        model,
        new Map(rows.map((r) => [r.id, r])),
      ]),
    );
    this.sequences = new Map(Object.entries(snapshot.sequences));
    for (const [model, indexes] of this.indexes)
      for (const [name, index] of indexes) this.defineIndex(model, index.key, name);
    return snapshot.secrets;
  }

  /** Writes the whole database to `file` (what the journal compacts into). */
  saveTo(file: string, secrets: unknown): void {
    const temporary = `${file}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.snapshot(secrets)));
    renameSync(temporary, file);
  }

  /**
   * Loads the snapshot in `file`, then replays the journal beside it (`<file>.journal`), if any;
   * answers the credentials stored last.
   */
  loadFrom(file: string): unknown {
    let secrets = this.restore(JSON.parse(readFileSync(file, 'utf8')) as Snapshot);
    for (const entry of readJournal(journalFileOf(file))) {
      this.apply(entry);
      if (entry.secrets) secrets = entry.storedSecrets;
    }
    return secrets;
  }
}
