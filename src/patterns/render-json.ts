/** JSON: two-space indent, keys in schema order (the value is already ordered), final newline. */
export function renderJson(ordered: Record<string, unknown>): string {
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
