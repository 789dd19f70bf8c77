/**
 * "Did you mean …?" for a value that is not one of a fixed set (a provider id, a cache
 * store, a page mode): the closest valid value by edit distance, as commander already does
 * for unknown commands and options.
 */

/**
 * Edits between `a` and `b` (insert, delete, substitute, swap two neighbours: optimal string
 * alignment, as commander counts them), so `eahc` is one edit from `each`.
 */
function distance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = d;
    }
  }
  return at(a.length, b.length);
}

/**
 * The choice closest to `value` when it is close enough to be a typo (case ignored; at most
 * 40 % of the choice's length in edits, and at least one), or a choice `value` is the start of
 * (3 characters or more); undefined when nothing is close. Ties go to the first choice.
 */
export function closestChoice(value: string, choices: readonly string[]): string | undefined {
  const typed = value.trim().toLowerCase();
  if (typed === '') return undefined;
  let best: { choice: string; edits: number } | undefined;
  for (const choice of choices) {
    const edits = distance(typed, choice.toLowerCase());
    const allowed = Math.max(1, Math.floor(choice.length * 0.4));
    if (edits <= allowed && (best === undefined || edits < best.edits)) best = { choice, edits };
  }
  if (best) return best.choice;
  return typed.length >= 3 ? choices.find((choice) => choice.toLowerCase().startsWith(typed)) : undefined;
}

/** ` Did you mean "openai"?` (with its leading space), or '' when no choice is close. */
export function didYouMean(value: string, choices: readonly string[]): string {
  const closest = closestChoice(value, choices);
  return closest === undefined ? '' : ` Did you mean "${closest}"?`;
}
