/**
 * The flags `visionpipe run` takes to send its images to the service's workers:
 * `--queue redis://…` (the workers' REDIS_URL), the database they share
 * (`--database-url`, DATABASE_URL) and the key prefix (`--queue-prefix`,
 * VISIONPIPE_QUEUE_PREFIX). Light on purpose: the queue run itself is loaded when used.
 */
import { type Command, Option } from 'commander';

export interface QueueRunFlags {
  queue?: string;
  databaseUrl?: string;
  queuePrefix: string;
}

export function addQueueOptions(command: Command): Command {
  return command
    .option(
      '--queue <redis-url>',
      "send the images to the service's workers (visionpipe worker) on this Redis",
    )
    .addOption(
      new Option('--database-url <url>', 'with --queue: the PostgreSQL the workers use').env('DATABASE_URL'),
    )
    .addOption(
      new Option('--queue-prefix <prefix>', "with --queue: the workers' Redis key prefix")
        .env('VISIONPIPE_QUEUE_PREFIX')
        .default('visionpipe'),
    );
}
