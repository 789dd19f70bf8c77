/**
 * Every migration, by name, in the order they run. Listed in code rather than read from
 * a folder so they work the same from src/ (tests) and dist/ (the installed package).
 */
import type { Migration } from 'kysely';
import * as initial from './0001-initial.js';
import * as patternSnapshots from './0002-pattern-snapshots.js';
import * as jobDocuments from './0003-job-documents.js';
import * as webhookReplays from './0004-webhook-replays.js';
import * as jobWork from './0005-job-work.js';
import * as jobQueuePrefix from './0006-job-queue-prefix.js';

export const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-pattern-snapshots': patternSnapshots,
  '0003-job-documents': jobDocuments,
  '0004-webhook-replays': webhookReplays,
  '0005-job-work': jobWork,
  '0006-job-queue-prefix': jobQueuePrefix,
};
