/**
 * What `visionpipe init` writes: a config file whose every setting is explained (the
 * active ones run offline on the local engine) and a starter pattern. Kept as text, not
 * generated from the schema, so the comments read like documentation; a test loads both
 * through the real config and pattern loaders.
 */

export const INIT_CONFIG_FILE = 'visionpipe.config.yaml';
export const INIT_PATTERN_FILE = 'patterns/receipt.yaml';

export const INIT_CONFIG = `# visionpipe config: defaults for \`visionpipe run\`, \`estimate\` and \`bench\`.
# A flag on the command line always wins over this file. API keys never go here: they come
# from the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, IMGGO_API_KEY).
# Relative paths are relative to this file.
#
# Try it:  visionpipe run receipt.jpg --pattern ${INIT_PATTERN_FILE}

# Which model reads the images. "local" is the offline engine (OCR, no key, no network);
# others: openai, anthropic, gemini, imggo.
provider: local
# model: gpt-4.1-mini            # the provider's default when left out
# baseUrl: http://localhost:11434/v1   # an OpenAI-compatible server (Ollama, vLLM, a gateway)

# Images in flight at once (default: CPU cores for local, 10 for APIs).
# concurrency: 10

# Your plan's limits, paced smoothly; retries of rate-limited or failed calls.
# rpm: 500
# tpm: 2000000
# maxAttempts: 5
# maxRetryWait: 2m
# limiter: redis://127.0.0.1:6379   # share one limit between processes and machines

# Results are cached by image content: an unchanged image is never paid twice.
cache: sqlite                    # sqlite, memory (nothing kept between runs), off, or redis://…
cacheTtl: 24h                    # how long a cached result is served (30s, 90m, 24h, 7d; 0 = forever)
stateDir: .visionpipe            # the SQLite cache and run state

# Cheaper runs: a relevance check first, a stronger model for weak answers, a token cap.
# triage: local
# escalateTo: openai:gpt-4.1
# escalateBelow: 0.6
# maxImageTokens: 800
# route: routes.yaml              # send different images to different patterns/models

# Watching a run.
# metricsPort: 9464               # Prometheus /metrics while it runs
# logFile: run.log                # JSON lines
# maxCostUsd: 25                  # stop before spending more
`;

export const INIT_PATTERN = `# A starter pattern in ImgGo's YAML form: an example document, one key per field.
# Check it with: visionpipe pattern check ${INIT_PATTERN_FILE}
name: Receipt
version: "1"
format: yaml
instructions: |
  Extract the fields below from the receipt in the image.
  - merchant_name: the store or business name at the top, as printed.
  - date: the purchase date as YYYY-MM-DD.
  - total_amount: the final amount paid, a plain number with a dot for decimals.
  When a value is missing or unreadable, use null; never guess.
yaml_schema: |
  merchant_name: Corner Deli
  date: "2024-06-11"
  total_amount: 7.25
`;
