/**
 * The local engine's version: part of its answer key (LocalProvider.answerKey), so results
 * cached, deduplicated or resumed under an older engine are never served as this engine's.
 * The local engine is its own model: a change to how it reads pages (light-text bands,
 * field matching, value fitting…) changes its answers as a new model would.
 *
 * Bump it whenever the code of src/providers/local.ts or src/providers/local/ changes what
 * it compiles to: test/providers/local-engine-version.test.ts pins a digest of that code
 * (comments and types left out) per version and fails until the bump is made.
 */
export const LOCAL_ENGINE_VERSION = 3;
