/**
 * API keys come from the environment and must never reach a message, a record or a
 * log. The redaction lives in src/secrets.ts (errors use it too); providers import it here.
 */
export {
  knownSecrets,
  REDACTED,
  redactDeep,
  redactedPrefix,
  redactSecrets,
  redactUrl,
  registerSecret,
  urlHasCredentials,
} from '../secrets.js';
