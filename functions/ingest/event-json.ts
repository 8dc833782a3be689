/**
 * Reads a vendor's JSON body: strict UTF-8, no digit lost, and no nesting deeper than the rest
 * of Spine can walk.
 */

// A JSON string (skipped whole, so digits inside strings are untouched) or a long integer
// literal that is not part of a fraction or exponent.
const STRING_OR_LONG_INTEGER = /"(?:[^"\\]|\\.)*"|(?<![\w.+-])-?\d{16,}(?![\d.eE])/g;
const LONG_DIGIT_RUN = /\d{16}/;

/**
 * Parses a vendor's JSON body without losing digits. Shopify ids are 64-bit integers above
 * 2^53, which `JSON.parse` silently rounds (706405506930370084 becomes ...370100), turning two
 * customers into one external id. Integers that are not safe in a double are kept as strings;
 * contracts type such ids as `[integer, string]`.
 */
export function parseEventJson(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
  const safe = text.replace(STRING_OR_LONG_INTEGER, (token) =>
    token.startsWith('"') || Number.isSafeInteger(Number(token)) ? token : `"${token}"`,
  );
  return JSON.parse(safe);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * The text of a body, or a SyntaxError saying why there is none. Bytes that are not UTF-8 are
 * refused rather than replaced with U+FFFD: the event would be stored altered. A leading byte
 * order mark is dropped (RFC 8259 lets a parser ignore it).
 */
export function readEventText(body: Buffer): string {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new SyntaxError('the body is not valid UTF-8');
  }
  if (text.trim() === '') throw new SyntaxError('the body is empty');
  return text;
}

/**
 * How deep an event may nest. JSON.parse takes any depth, but serialising, validating,
 * redacting and storing walk values recursively and overflow the stack within a few thousand
 * levels; vendors' events nest fewer than ten.
 */
export const MAX_EVENT_DEPTH = 64;

/** Whether `value` nests objects or arrays more than `limit` levels deep; walks without recursion. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [current, depth] = next;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

/**
 * The exact text of each element of a JSON array text, so that one event of a batch can be
 * kept as it was sent. The text must be an array that JSON.parse accepts.
 */
export function arrayElementTexts(text: string): string[] {
  const elements: string[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      if (depth === 0) start = i + 1;
      depth++;
    } else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0) {
        const last = text.slice(start, i).trim();
        if (last !== '' || elements.length > 0) elements.push(last);
        break;
      }
    } else if (c === ',' && depth === 1) {
      elements.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  return elements;
}
