/** What `visionpipe pattern check` does (flags and help: ../pattern.ts). */
import { VisionpipeError } from '../../errors.js';
import { CONSTRAINT_KEYWORDS } from '../../patterns/constraints.js';
import { loadPattern } from '../../patterns/index.js';
import { nullContainerPaths } from '../../patterns/null-containers.js';
import type { StructuredOutputSupport } from '../../patterns/request-schema.js';
import type { Pattern, SchemaNode } from '../../patterns/types.js';
import { ANTHROPIC_TOOL_SUPPORT } from '../../providers/anthropic.js';
import { GEMINI_SCHEMA_SUPPORT } from '../../providers/gemini.js';
import { OPENAI_STRICT_SUPPORT } from '../../providers/openai.js';
import type { PatternCheckFlags } from '../pattern.js';

/** A rule one provider's mode does not take as a keyword: sent in words instead. */
export interface DescribedRule {
  /** JSON pointer of the field (`/line_items/*` `/amount`). */
  path: string;
  /** The keyword, or `format:<name>`. */
  rule: string;
}

export interface ProviderView {
  /** How the schema reaches the provider. */
  receives: string;
  /** Rules sent as words in the description instead of schema keywords. */
  described: DescribedRule[];
}

const MODES: Record<string, { support: StructuredOutputSupport; receives: string }> = {
  openai: { support: OPENAI_STRICT_SUPPORT, receives: 'the schema in strict structured-output mode' },
  anthropic: { support: ANTHROPIC_TOOL_SUPPORT, receives: 'the schema as a tool input schema' },
  gemini: { support: GEMINI_SCHEMA_SUPPORT, receives: 'the schema as responseSchema (OpenAPI subset)' },
};

function describedRules(node: SchemaNode, support: StructuredOutputSupport, at = ''): DescribedRule[] {
  const out: DescribedRule[] = [];
  for (const keyword of CONSTRAINT_KEYWORDS) {
    if (node[keyword] === undefined) continue;
    const accepted = support.keywords.has(keyword) && (support.accepts?.(keyword, node) ?? true);
    if (!accepted) out.push({ path: at || '/', rule: keyword });
  }
  if (node.format !== undefined && !support.formats.has(node.format))
    out.push({ path: at || '/', rule: `format:${node.format}` });
  for (const [key, child] of Object.entries(node.properties ?? {}))
    out.push(...describedRules(child, support, `${at}/${key}`));
  if (node.items) out.push(...describedRules(node.items, support, `${at}/*`));
  return out;
}

/** What each provider receives for this pattern. */
export function providerViews(pattern: Pattern): Record<string, ProviderView> {
  const views: Record<string, ProviderView> = {
    local: {
      receives: 'the field names and labels (offline OCR); outputs checked against the schema',
      described: [],
    },
  };
  for (const [id, mode] of Object.entries(MODES))
    views[id] = { receives: mode.receives, described: describedRules(pattern.schema, mode.support) };
  views.imggo = {
    receives:
      'nothing from this file: the pattern registered with ImgGo (--imggo-pattern ID); its answers are checked against this schema',
    described: [],
  };
  return views;
}

async function trySample(pattern: Pattern, image: string) {
  const { createPipeline } = await import('../../pipeline/create-pipeline.js');
  const pipeline = await createPipeline({ pattern, provider: 'local', cache: { spec: 'off' } });
  try {
    return await pipeline.process(image);
  } finally {
    await pipeline.close();
  }
}

/**
 * Checks `file` and prints the report. Returns 0 when valid (and the sample, if any, is ok),
 * 1 when the sample failed; throws INVALID_PATTERN / NOT_FOUND (exit 2) for a bad pattern.
 */
export async function patternCheck(file: string, flags: PatternCheckFlags): Promise<number> {
  const pattern = await loadPattern(file, { onWarning: () => {} });
  const providers = providerViews(pattern);
  const sample = flags.sample ? await trySample(pattern, flags.sample) : undefined;
  if (sample?.status === 'error' && sample.error?.code === 'NOT_FOUND')
    throw new VisionpipeError('NOT_FOUND', `--sample ${flags.sample}: no such file`, { input: flags.sample });
  const report = {
    file,
    valid: true,
    name: pattern.name,
    format: pattern.format,
    version: pattern.version,
    fingerprint: pattern.fingerprint,
    fields: Object.keys(pattern.schema.properties),
    required_fields: pattern.requiredFields,
    /** Objects and lists a plain `null` answer is read as not found for (docs/patterns.md). */
    not_found_when_null: nullContainerPaths(pattern.schema),
    schema: pattern.schema,
    providers,
    warnings: pattern.warnings,
    ...(sample ? { sample } : {}),
  };
  const sampleFailed = sample !== undefined && sample.status !== 'ok';
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return sampleFailed ? 1 : 0;
  }
  const lines = [
    `${file}: valid ${pattern.format} pattern "${pattern.name}" (version ${pattern.version}, ${report.fields.length} top-level fields)`,
    `  fingerprint ${pattern.fingerprint.slice(0, 16)} (part of every cache key; \`cache stats\` lists results by it)`,
    `  required non-null: ${pattern.requiredFields.length ? pattern.requiredFields.join(', ') : 'none (every field may be null)'}`,
    ...(report.not_found_when_null.length
      ? [
          `  read as not found when answered null (object: its fields null; list: []): ${report.not_found_when_null.join(', ')}`,
        ]
      : []),
    '',
    'Normalised schema (every output is checked against it):',
    ...JSON.stringify(pattern.schema, null, 2)
      .split('\n')
      .map((line) => `  ${line}`),
    '',
    'What each provider receives:',
  ];
  for (const [id, view] of Object.entries(providers)) {
    lines.push(`  ${id.padEnd(9)} ${view.receives}`);
    if (view.described.length > 0)
      lines.push(
        `            sent as words, not keywords (still checked): ${view.described.map((d) => `${d.path} ${d.rule}`).join(', ')}`,
      );
  }
  lines.push('', 'Cannot be enforced:');
  lines.push(...(pattern.warnings.length ? pattern.warnings.map((w) => `  - ${w}`) : ['  nothing']));
  if (sample) {
    lines.push('', `Sample ${flags.sample} (local engine): ${sample.status}`);
    if (sample.status === 'ok') lines.push(`  output: ${JSON.stringify(sample.output)}`);
    else if (sample.error) lines.push(`  error [${sample.error.code}]: ${sample.error.message}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return sampleFailed ? 1 : 0;
}
