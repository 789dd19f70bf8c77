/** Scraping /metrics and reading it through a real exposition-format parser. */
import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format';
import { request } from 'undici';

export async function scrape(url: string): Promise<PromFamily[]> {
  const response = await request(url);
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`${url}: HTTP ${response.statusCode}: ${text}`);
  return parsePrometheusTextFormat(text);
}

/** Sum of a counter or gauge's samples whose labels include `match`. */
export function total(families: PromFamily[], name: string, match: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  if (!family) return 0;
  return family.metrics
    .filter((m) => Object.entries(match).every(([k, v]) => m.labels?.[k] === v))
    .reduce((sum, m) => sum + Number(m.value ?? m.count ?? 0), 0);
}

export function family(families: PromFamily[], name: string): PromFamily | undefined {
  return families.find((f) => f.name === name);
}
