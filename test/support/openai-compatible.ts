/**
 * An OpenAI-compatible chat server on loopback that answers whatever `content` says, the
 * way a vLLM / Ollama / gateway endpoint writes it (fenced JSON, prose around JSON…), and
 * counts its calls: each one is a billed call with the usage it reports.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startServer, type TestServer } from './http.js';

export interface ChatCall {
  body: {
    model: string;
    messages: Array<{ role: string; content: unknown }>;
    response_format?: unknown;
    max_tokens?: number;
  };
}

export interface CompatibleServer extends TestServer {
  /** `${url}/v1`, for --base-url. */
  baseUrl: string;
  calls: ChatCall[];
}

/** What one call answers: its content, or an HTTP error status, with or without usage, after a delay. */
export interface Reply {
  content?: string;
  /** An HTTP error status instead of an answer (unbilled, like a real 500). */
  status?: number;
  /** `null` answers without a usage block (some servers do). */
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  delayMs?: number;
  /** The answer waits for this too (a test holding calls until enough are in flight). */
  hold?: Promise<void>;
  /** Response headers (e.g. `retry-after` on a 429). */
  headers?: Record<string, string>;
  /** The body of an error `status` (default: a generic server_error); a string is sent as is (nginx's HTML pages). */
  errorBody?: unknown;
  /** The model the answer names (default: the one asked for; a server can say otherwise). */
  model?: string;
}

export interface CompatibleOptions {
  /**
   * Bodies over this many bytes are refused the way OpenAI refuses an image over its
   * limit: 400, invalid_request_error, code image_too_large (unbilled). `refused` counts them.
   */
  maxBodyBytes?: number;
}

export async function startCompatibleServer(
  content: string | ((call: ChatCall, n: number) => string | Reply),
  usage = { prompt_tokens: 1000, completion_tokens: 20 },
  options: CompatibleOptions = {},
): Promise<CompatibleServer & { refused: number[] }> {
  const calls: ChatCall[] = [];
  const refused: number[] = [];
  const server = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (options.maxBodyBytes !== undefined && body.length > options.maxBodyBytes) {
        refused.push(body.length);
        res.statusCode = 400;
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            error: {
              message: `Request body of ${body.length} bytes is over this server's ${options.maxBodyBytes} bytes per image.`,
              type: 'invalid_request_error',
              param: 'messages',
              code: 'image_too_large',
            },
          }),
        );
        return;
      }
      const call: ChatCall = { body: JSON.parse(body.toString('utf8')) };
      calls.push(call);
      const answer = typeof content === 'string' ? content : content(call, calls.length);
      const reply: Reply = typeof answer === 'string' ? { content: answer } : answer;
      const send = () => {
        res.setHeader('content-type', 'application/json');
        for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
        if (reply.status !== undefined) {
          res.statusCode = reply.status;
          const body = reply.errorBody ?? { error: { message: 'simulated failure', type: 'server_error' } };
          res.end(typeof body === 'string' ? body : JSON.stringify(body));
          return;
        }
        const billed = reply.usage === undefined ? usage : reply.usage;
        res.end(
          JSON.stringify({
            model: reply.model ?? call.body.model,
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: reply.content ?? '' },
                finish_reason: 'stop',
              },
            ],
            ...(billed === null ? {} : { usage: billed }),
          }),
        );
      };
      const later = () => {
        if (reply.delayMs) setTimeout(send, reply.delayMs);
        else send();
      };
      if (reply.hold) void reply.hold.then(later);
      else later();
    });
  });
  return { ...server, baseUrl: `${server.url}/v1`, calls, refused };
}

/** The repro pattern (vendor_name, total) as a YAML file in `dir`; returns its path. */
export async function writeSimplePattern(dir: string): Promise<string> {
  const file = path.join(dir, 'simple.yaml');
  await writeFile(
    file,
    'name: Simple\nformat: json\njson_schema:\n  vendor_name: string\n  total: number\ninstructions: Extract the vendor name and the total.\n',
  );
  return file;
}
