/**
 * OpenTelemetry spans from the library, through @opentelemetry/api alone: without an SDK
 * registered (the default) every call here is a no-op; `visionpipe` registers one when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (metrics/tracing.ts).
 *
 * Spans: `visionpipe.image` per image, with children per stage (`visionpipe.load`,
 * `visionpipe.preprocess`, `visionpipe.validate`) and one per provider attempt, named and
 * attributed by the GenAI semantic conventions (`chat gpt-4o`; `gen_ai.operation.name`,
 * `gen_ai.provider.name`, `gen_ai.request.model`, `gen_ai.usage.input_tokens`,
 * `gen_ai.usage.output_tokens`; `error.type` on failures).
 */
import { type Attributes, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

const tracer = () => trace.getTracer('visionpipe');

/** The error code of a failure (VisionpipeError code, else the error's name). */
export function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string') return name;
  }
  return '_OTHER';
}

/** Marks a span failed with `error.type`. */
export function failSpan(span: Span, type: string, message?: string): void {
  span.setAttribute('error.type', type);
  span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
}

/**
 * Runs `fn` inside an active span (children nest under it across awaits); the span ends
 * when `fn` settles and is marked failed when it throws.
 */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return tracer().startActiveSpan(name, { attributes, kind }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      failSpan(span, errorType(error), error instanceof Error ? error.message : undefined);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The GenAI provider name for a visionpipe provider id. */
const GEN_AI_PROVIDER: Record<string, string> = { gemini: 'gcp.gemini', local: 'visionpipe.local' };

/** A provider call attempt as a CLIENT span, per the GenAI semantic conventions. */
export function inProviderSpan<T>(
  who: { provider: string; model: string; operation: 'extract' | 'ask' },
  attempt: number,
  fn: () => Promise<T>,
): Promise<T> {
  const operation = 'chat';
  return inSpan(
    `${operation} ${who.model}`,
    {
      'gen_ai.operation.name': operation,
      'gen_ai.provider.name': GEN_AI_PROVIDER[who.provider] ?? who.provider,
      'gen_ai.request.model': who.model,
      'visionpipe.operation': who.operation,
      'visionpipe.attempt': attempt,
    },
    async (span) => {
      const value = await fn();
      const usage = (value as { usage?: { input_tokens?: unknown; output_tokens?: unknown } } | null)?.usage;
      if (typeof usage?.input_tokens === 'number')
        span.setAttribute('gen_ai.usage.input_tokens', usage.input_tokens);
      if (typeof usage?.output_tokens === 'number')
        span.setAttribute('gen_ai.usage.output_tokens', usage.output_tokens);
      const model = (value as { model?: unknown } | null)?.model;
      if (typeof model === 'string') span.setAttribute('gen_ai.response.model', model);
      return value;
    },
    SpanKind.CLIENT,
  );
}
