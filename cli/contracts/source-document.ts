/**
 * A contract or flows file as read from disk (or from git), keeping the YAML's positions so
 * that every finding can name a line.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { Finding } from './findings.ts';

export type KeyPath = readonly (string | number)[];

export class SourceDocument {
  private constructor(
    /** Repository-relative path, e.g. `contracts/stripe/customer.v1.yaml`. */
    readonly file: string,
    readonly text: string,
    /** The parsed value; undefined when the YAML does not parse. */
    readonly data: unknown,
    readonly syntaxErrors: readonly Finding[],
    private readonly doc: ReturnType<typeof parseDocument>,
    private readonly lines: LineCounter,
  ) {}

  static parse(file: string, text: string): SourceDocument {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const syntaxErrors: Finding[] = doc.errors.map((error) => ({
      severity: 'error',
      file,
      line: lines.linePos(error.pos[0]).line,
      message: `YAML does not parse: ${error.message.split('\n')[0]}`,
      hint: 'check indentation and quoting on that line (a value starting with { [ : # or @ needs quotes)',
      rule: 'yaml-syntax',
    }));
    const data = doc.errors.length > 0 ? undefined : doc.toJS({ maxAliasCount: 100 });
    return new SourceDocument(file, text, data, syntaxErrors, doc, lines);
  }

  /** The 1-based line of the value at a key path, or of its nearest existing parent. */
  lineOf(path: KeyPath): number | undefined {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.doc.getIn(path.slice(0, depth), true) as Node | undefined;
      const start =
        node && (isScalar(node) || isMap(node) || isSeq(node)) ? node.range?.[0] : undefined;
      if (start !== undefined) return this.lines.linePos(start).line;
    }
    return undefined;
  }

  /** The 1-based line of the last key of `path` itself (a map entry's key, not its value). */
  lineOfKey(path: KeyPath): number | undefined {
    const parent = this.doc.getIn(path.slice(0, -1), true) as Node | undefined;
    const last = path.at(-1);
    if (parent && isMap(parent)) {
      for (const pair of parent.items) {
        const key = pair.key as Node | null;
        if (key && isScalar(key) && key.value === last && key.range)
          return this.lines.linePos(key.range[0]).line;
      }
    }
    return this.lineOf(path);
  }

  /**
   * The line of a character offset inside a string value (a JSONata expression), counting the
   * lines of a block scalar (`mapping: |`) from its first content line.
   */
  lineWithin(path: KeyPath, offset: number): number | undefined {
    const node = this.doc.getIn(path, true) as Node | undefined;
    const line = this.lineOf(path);
    if (line === undefined || !node || !isScalar(node) || typeof node.value !== 'string')
      return line;
    const block = node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED';
    const before = node.value.slice(0, Math.max(0, offset - 1));
    return line + (block ? 1 : 0) + (before.match(/\n/g)?.length ?? 0);
  }
}
