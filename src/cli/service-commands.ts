/** The service's commands, for the program to register: each loads its heavy parts when it runs. */
import type { Command } from 'commander';
import { keysCommand } from './keys.js';
import { migrateCommand } from './migrate.js';
import { serveCommand } from './serve.js';
import { workerCommand } from './worker.js';

export function serviceCommands(): Command[] {
  return [serveCommand(), workerCommand(), keysCommand(), migrateCommand()];
}
