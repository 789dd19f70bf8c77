/**
 * The CLI's exit codes (README "CLI"): 0 success; 1 some inputs failed (`optimize`,
 * `run --fail-on-error`: an error, empty or low-confidence output); 2 usage error (a bad flag, pattern, route or config file);
 * 3 internal error; 4 `run` stopped by its `--max-cost-usd` budget before every input was
 * processed (the results so far are kept; run again with a larger budget to continue);
 * 130 `run` stopped by Ctrl-C or SIGTERM before every input was processed (the results so far
 * are kept; the same command resumes), or a second Ctrl-C. A `run --watch` ends with Ctrl-C:
 * that is 0, unless the stop left files of its folder unread (130).
 */
export const EXIT = {
  ok: 0,
  inputsFailed: 1,
  usage: 2,
  internal: 3,
  budgetStopped: 4,
  stopped: 130,
} as const;
