/**
 * A pattern's `pattern` keyword is someone else's regular expression (shared pattern files,
 * the service's API), and the string it is tested against is text read from an image. A
 * regular expression with nested quantifiers (`^(a+)+$`) backtracks exponentially: 30
 * characters of `a` then `!` keep V8 busy for minutes, and the whole process (every image,
 * the service) with it. No static check catches every such expression, so each test runs
 * in a `node:vm` context with a time limit instead: a test that takes longer than
 * {@link REGEXP_TEST_TIMEOUT_MS} counts as "does not match" (the output fails validation,
 * SCHEMA_MISMATCH, as for any value the pattern refuses), and the process goes on.
 */
import vm from 'node:vm';

/** Milliseconds one `pattern` test may run before it counts as not matching. */
export const REGEXP_TEST_TIMEOUT_MS = 100;

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
      context.re = re;
      context.s = text;
      try {
        return script.runInContext(context, { timeout: REGEXP_TEST_TIMEOUT_MS }) === true;
      } catch {
        return false;
      } finally {
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
