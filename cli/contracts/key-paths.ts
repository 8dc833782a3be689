/** Key paths into a YAML file as findings print them, and from Ajv's JSON pointers. */
import type { KeyPath } from './source-document.ts';

export function pointerToKeyPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `['target', 'match', 0, 'field']` → `target.match[0].field` */
export function dotted(keyPath: KeyPath): string {
  return keyPath
    .map((k) => (typeof k === 'number' ? `[${k}]` : k))
    .join('.')
    .replace(/\.\[/g, '[');
}
