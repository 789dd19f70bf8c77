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

export async function startCompatibleServer(
  content: string | ((call: ChatCall, n: number) => string),
  usage = { prompt_tokens: 1000, completion_tokens: 20 },
): Promise<CompatibleServer> {
  const calls: ChatCall[] = [];
  const server = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const call: ChatCall = { body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
      calls.push(call);
      const text = typeof content === 'string' ? content : content(call, calls.length);
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          model: call.body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
          usage,
        }),
      );
    });
  });
  return { ...server, baseUrl: `${server.url}/v1`, calls };
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
