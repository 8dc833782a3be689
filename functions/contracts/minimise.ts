/**
 * Keeps only what a contract declares. Vendors add fields without notice, and an undeclared
 * field has no meaning, owner or PII marking, so it travels no further than the receiver.
 */
import type { Shape } from './model.ts';

export function minimise(shape: Shape, value: unknown): unknown {
  if (shape.kind === 'value' || value === null || typeof value !== 'object') return value;
  if (shape.kind === 'array')
    return Array.isArray(value) ? value.map((item) => minimise(shape.items, item)) : value;
  if (Array.isArray(value)) return value;
  const kept: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const childShape = Object.hasOwn(shape.properties, key)
      ? shape.properties[key]
      : shape.additional;
    if (childShape) keep(kept, key, minimise(childShape, child));
  }
  return kept;
}

/**
 * Sets an own property, whatever its name: JSON.parse makes `__proto__` an ordinary key, which
 * plain assignment would take for the prototype and silently lose.
 */
export function keep(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else target[key] = value;
}
