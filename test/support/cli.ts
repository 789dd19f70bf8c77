/** Runs the real `visionpipe` binary as a child process, the way users do. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunRecord } from '../../src/pipeline/record.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin/visionpipe.cjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  onSpawn?: (child: ChildProcess) => void;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return runCommand(process.execPath, [BIN, ...args], {
    ...options,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
  });
}

/** Runs any program to its end (killed after `timeoutMs`), collecting its output. */
export function runCommand(command: string, args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    options.onSpawn?.(child);
  });
}

/** The records of a results file (JSONL), in order. */
export async function readRecords(file: string): Promise<RunRecord[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunRecord);
}

/** `--provider openai --model MODEL --base-url BASE`: a command pointed at the simulator (or any compatible server). */
export function openAiFlags(baseUrl: string, model = 'gpt-4o-mini'): string[] {
  return ['--provider', 'openai', '--model', model, '--base-url', baseUrl];
}

/**
 * `visionpipe run INPUT… --pattern PATTERN --provider openai --model MODEL --base-url
 * BASE [--out OUT] …extra` with a test key (`OPENAI_API_KEY`, overridable through `env`),
 * the way a user points a run at the simulator. Without `out` the run writes its default
 * results file. `onSpawn` sees the child (to watch its output or signal it); `timeoutMs`
 * bounds the run (killed after it, default that of runCli).
 */
export function runOpenAiCompatible(
  input: string | readonly string[],
  options: {
    pattern: string;
    baseUrl: string;
    /** Default gpt-4o-mini. */
    model?: string;
    out?: string;
    extra?: string[];
    cwd?: string;
    env?: Record<string, string>;
    timeoutMs?: number;
    onSpawn?: (child: ChildProcess) => void;
  },
): Promise<CliResult> {
  return runCli(
    [
      'run',
      ...(typeof input === 'string' ? [input] : input),
      '--pattern',
      options.pattern,
      ...openAiFlags(options.baseUrl, options.model),
      ...(options.out === undefined ? [] : ['--out', options.out]),
      ...(options.extra ?? []),
    ],
    {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: { OPENAI_API_KEY: 'sk-test-simulator', ...options.env },
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
    },
  );
}
