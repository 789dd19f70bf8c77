/**
 * A pattern's `pattern` keyword is someone else's regular expression (shared pattern files,
 * the service's API), and the string it is tested against is text read from an image. A
 * regular expression with nested quantifiers (`^(a+)+$`) backtracks exponentially: 30
 * characters of `a` then `!` keep V8 busy for minutes, and the whole process (every image,
 * the service) with it. No static check catches every such expression, so each test runs
 * in a `node:vm` context with a time limit instead: a test that takes longer than
 * {@link REGEXP_TEST_TIMEOUT_MS} counts as "does not match" (the output fails validation,
 * SCHEMA_MISMATCH, as for any value the pattern refuses), and the process goes on.
 *
 * One limit per test is not enough: an answer with 300 values against `^(a+)+$` is 300 ×
 * 100 ms = 30 s for one image. A validation (one image's answer) therefore runs inside
 * {@link withRegexpBudget}: all its tests together get {@link REGEXP_BUDGET_MS}; once that is
 * spent, every remaining test fails closed without running (does not match), and the
 * validation reports the budget (validate.ts: SCHEMA_MISMATCH naming `regexpBudget`).
 */
import vm from 'node:vm';

/** Milliseconds one `pattern` test may run before it counts as not matching. */
export const REGEXP_TEST_TIMEOUT_MS = 100;

/** Milliseconds all the `pattern` tests of one validation (one image's answer) may take together. */
export const REGEXP_BUDGET_MS = 500;

/** The budget of the validation running now (validation is synchronous: one at a time). */
let current: { left: number } | undefined;

/**
 * Runs `fn` with a shared regexp time budget and says whether it was spent. A call inside
 * another shares the outer budget (a per-image scope covers per-field validations in it).
 */
export function withRegexpBudget<T>(fn: () => T): { value: T; exhausted: boolean } {
  if (current) {
    const outer = current;
    const value = fn();
    return { value, exhausted: outer.left <= 0 };
  }
  const budget = { left: REGEXP_BUDGET_MS };
  current = budget;
  try {
    const value = fn();
    return { value, exhausted: budget.left <= 0 };
  } finally {
    current = undefined;
  }
}

const context = vm.createContext(Object.create(null) as object);
const script = new vm.Script('re.lastIndex = 0; re.test(s)');

/** What ajv calls to test a value: `test(s)` only. */
export interface BoundedRegExp {
  test(text: string): boolean;
  toString(): string;
}

/**
 * ajv's `code.regExp` engine: compiles `source` with `flags` and tests strings with a time
 * limit. Throws SyntaxError for a bad expression (patterns are checked at load already).
 */
function compileBounded(source: string, flags: string): BoundedRegExp {
  const re = new RegExp(source, flags);
  return {
    test(text: string): boolean {
      const budget = current;
      // Fail closed once the validation's budget is spent: the test does not even run.
      if (budget && budget.left <= 0) return false;
      const timeout = budget
        ? Math.max(1, Math.min(REGEXP_TEST_TIMEOUT_MS, Math.ceil(budget.left)))
        : REGEXP_TEST_TIMEOUT_MS;
      context.re = re;
      context.s = text;
      const started = performance.now();
      try {
        return script.runInContext(context, { timeout }) === true;
      } catch {
        return false;
      } finally {
        if (budget) budget.left -= performance.now() - started;
        context.re = undefined;
        context.s = undefined;
      }
    },
    toString: () => re.toString(),
  };
}

/**
 * The engine in ajv's shape. `code` only matters for ajv's standalone code generation
 * (unused here): at run time ajv calls the compiled objects' `test`.
 */
export const boundedRegExp = Object.assign(compileBounded, { code: 'new RegExp' });
