/**
 * Test files that share their fork's modules (vitest `isolate: false`, see vitest.config.ts):
 * pure unit tests of the library. A fresh fork per file cost each of them ~0.8 s of CPU to
 * load vitest and the sources again (these 52 files: 57 s of CPU isolated, 17 s shared, on
 * 2 forks; they pass shuffled in shared forks). A file not listed runs isolated, so a new
 * test file is safe by default; test/shared-modules.test.ts keeps the listed ones pure.
 */

/** Paths from the repository root. */
export const SHARED_MODULES: readonly string[] = [
  'test/documents/page-records.test.ts',
  'test/flow/budget-anchor.test.ts',
  'test/flow/call-phase.test.ts',
  'test/flow/call-policy.test.ts',
  'test/flow/cap-or-rate.test.ts',
  'test/flow/cap-until-done.test.ts',
  'test/flow/circuit-breaker.test.ts',
  'test/flow/doubted-retry-after.test.ts',
  'test/flow/doubted-wait-budget.test.ts',
  'test/flow/memory-limiter.test.ts',
  'test/flow/paced-release.test.ts',
  'test/flow/refusal-spell.test.ts',
  'test/flow/retry.test.ts',
  'test/flow/rising-limit.test.ts',
  'test/flow/rising-rate.test.ts',
  'test/flow/wait-budget.test.ts',
  'test/flow/window-slow-source.test.ts',
  'test/flow/window.test.ts',
  'test/image/sniff-profiles.test.ts',
  'test/metrics/run-log-console.test.ts',
  'test/patterns/constraints.test.ts',
  'test/patterns/fingerprint.test.ts',
  'test/patterns/render.test.ts',
  'test/patterns/round-trip.test.ts',
  'test/patterns/validate.test.ts',
  'test/pipeline/answer-keys.test.ts',
  'test/pipeline/bad-response-raw.test.ts',
  'test/pipeline/call-pricing.test.ts',
  'test/pipeline/image-stages.test.ts',
  'test/pipeline/null-containers.test.ts',
  'test/pipeline/size-refusal-retry.test.ts',
  'test/pipeline/wrapped-answers.test.ts',
  'test/providers/http.test.ts',
  'test/providers/model-names-and-prices.test.ts',
  'test/providers/request-schema.test.ts',
  'test/providers/size-refusal-shapes.test.ts',
  'test/providers/token-budget.test.ts',
  'test/runs/inputs.test.ts',
  'test/runs/next-step-provider.test.ts',
  'test/runs/rate-limited-step.test.ts',
  'test/security/bound-message-paths.test.ts',
  'test/security/guards-edges.test.ts',
  'test/security/non-finite-numbers.test.ts',
  'test/security/output-injection.test.ts',
  'test/security/pattern-ref-chains.test.ts',
  'test/security/pattern-regexp.test.ts',
  'test/security/pdf-bombs.test.ts',
  'test/security/secret-url-parts.test.ts',
  'test/security/unique-items-count.test.ts',
  'test/security/url-path-parameters.test.ts',
  'test/security/xml-values.test.ts',
  'test/service/admin-revoke-race.test.ts',
  'test/slow-first.test.ts',
];

/**
 * What a file sharing a fork must not do, as text in its source: start a process, a
 * server, Redis, PostgreSQL, a browser, sharp or the local engine (state or handles that
 * outlive the file), mock a module, or change the environment, signal handlers or the
 * working directory (seen by the files after it).
 */
export const NOT_SHARED =
  /runCli|runOpenAiCompatible|traceCli|runCommand|spawn|fork\(|execFile|vi\.mock|vi\.stubEnv|vi\.stubGlobal|process\.env|process\.chdir|process\.on\(|listen\(|createServer|[Ss]imulator|useFlowRedis|ioredis|[Rr]edis|postgres|chromium|playwright|worker_threads|sharp|tesseract|local/;
