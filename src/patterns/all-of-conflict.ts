/**
 * Conflicts between the branches of an `allOf` that leave no value (issue 12): `allOf:
 * [{type: string}, {type: integer}]`, a `minimum` above another branch's `maximum`, two
 * anchored literal patterns that differ, a literal one branch's `pattern` refuses, `const`s
 * and `enum`s with nothing in common. Patterns refuse such an `allOf` at load naming the
 * conflict; one without a provable conflict is refused as unsupported (merge it by hand).
 */
import { isPlainObject } from './objects.js';
import { patternLiteral } from './value-set.js';

type Branch = Record<string, unknown>;

function typesOf(branch: Branch): string[] | undefined {
  const type = branch.type;
  if (typeof type === 'string') return [type];
  if (Array.isArray(type) && type.every((t) => typeof t === 'string')) return type as string[];
  return undefined;
}

/** Whether a value of `a` can be a value of `b` (an integer is a number). */
function overlap(a: string, b: string): boolean {
  return a === b || (a === 'integer' && b === 'number') || (a === 'number' && b === 'integer');
}

function typeConflict(branches: Branch[]): string | undefined {
  const typed = branches.map(typesOf).filter((t): t is string[] => t !== undefined);
  for (let i = 0; i < typed.length; i++)
    for (let j = i + 1; j < typed.length; j++) {
      const [a, b] = [typed[i]!, typed[j]!];
      if (!a.some((x) => b.some((y) => overlap(x, y))))
        return `type ${a.join(' or ')} in one branch and ${b.join(' or ')} in another`;
    }
  return undefined;
}

function boundConflict(branches: Branch[]): string | undefined {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  let low: { value: number; open: boolean; word: string } | undefined;
  let high: { value: number; open: boolean; word: string } | undefined;
  for (const b of branches) {
    for (const [word, open] of [
      ['minimum', false],
      ['exclusiveMinimum', true],
    ] as const) {
      const v = num(b[word]);
      if (v !== undefined && (!low || v > low.value || (v === low.value && open)))
        low = { value: v, open, word };
    }
    for (const [word, open] of [
      ['maximum', false],
      ['exclusiveMaximum', true],
    ] as const) {
      const v = num(b[word]);
      if (v !== undefined && (!high || v < high.value || (v === high.value && open)))
        high = { value: v, open, word };
    }
  }
  if (!low || !high) return undefined;
  if (low.value < high.value || (low.value === high.value && !low.open && !high.open)) return undefined;
  return `${low.word} ${low.value} is not below ${high.word} ${high.value} of another branch`;
}

function patternConflict(branches: Branch[]): string | undefined {
  const patterns = branches.map((b) => b.pattern).filter((p): p is string => typeof p === 'string');
  for (const literalOf of patterns) {
    const literal = patternLiteral(literalOf);
    if (literal === undefined) continue;
    for (const other of patterns) {
      if (other === literalOf) continue;
      let matches: boolean;
      try {
        matches = new RegExp(other, 'u').test(literal);
      } catch {
        continue; // an invalid pattern is refused elsewhere
      }
      if (!matches)
        return `pattern ${literalOf} allows only ${JSON.stringify(literal)}, which pattern ${other} refuses`;
    }
  }
  return undefined;
}

function valueConflict(branches: Branch[]): string | undefined {
  const sets = branches
    .map((b) => ('const' in b ? [b.const] : Array.isArray(b.enum) ? b.enum : undefined))
    .filter((s): s is unknown[] => s !== undefined);
  const key = (v: unknown) => JSON.stringify(v);
  for (let i = 0; i < sets.length; i++)
    for (let j = i + 1; j < sets.length; j++) {
      const other = new Set(sets[j]!.map(key));
      if (!sets[i]!.some((v) => other.has(key(v))))
        return `the allowed values ${key(sets[i]).slice(0, 100)} and ${key(sets[j]).slice(0, 100)} have none in common`;
    }
  return undefined;
}

/** Why the branches of `allOf` admit no value together; undefined when none is provable. */
export function allOfConflict(allOf: readonly unknown[]): string | undefined {
  const branches = allOf.filter(isPlainObject) as Branch[];
  return (
    typeConflict(branches) ?? boundConflict(branches) ?? patternConflict(branches) ?? valueConflict(branches)
  );
}
