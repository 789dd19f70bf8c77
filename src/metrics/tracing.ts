/**
 * Turns OpenTelemetry tracing on for a `visionpipe` process when the standard variable
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: spans go
 * over OTLP/HTTP to that collector, batched. Without it nothing is loaded: the SDK and
 * the exporter are imported only here, only then (the library uses @opentelemetry/api
 * alone, see observe/spans.ts). `OTEL_SERVICE_NAME` names the service (default visionpipe);
 * the exporter reads the other OTEL_EXPORTER_OTLP_* variables (headers, timeout) itself.
 */

export interface Tracing {
  /** Sends the spans still buffered and stops; call before the process exits. */
  shutdown(): Promise<void>;
}

export async function startTracingFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Promise<Tracing | undefined> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  if (env.OTEL_SDK_DISABLED === 'true') return undefined;
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? 'visionpipe' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 })],
  });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}
