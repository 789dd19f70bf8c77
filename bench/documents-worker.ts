/**
 * Child process of bench/documents.ts: renders every page of one PDF through
 * openDocument() to the provider-ready JPEG and prints {pages, peak_rss_bytes} as JSON,
 * so the peak memory of a 50-page and a 500-page run can be compared in clean processes.
 *
 *   tsx bench/documents-worker.ts <file.pdf> <profile>
 */
import { readFile } from 'node:fs/promises';
import { openDocument } from '../src/documents/document.js';
import { resolvePreprocessOptions } from '../src/image/options.js';
import { preprocessImage } from '../src/image/preprocess.js';
import { isProfileName, SIZE_PROFILES } from '../src/image/profiles.js';

const [file, profileName = 'openai-high'] = process.argv.slice(2);
if (!file || !isProfileName(profileName)) throw new Error('usage: documents-worker.ts <file.pdf> <profile>');
const options = resolvePreprocessOptions({ profile: profileName });
const doc = await openDocument(await readFile(file), file, {
  limits: SIZE_PROFILES[profileName],
  maxPages: Number.POSITIVE_INFINITY,
  quality: options.quality,
});
let pages = 0;
let bytes = 0;
for await (const page of doc) {
  const ready = await preprocessImage(page.data, options, `${file}#${page.page}`);
  bytes += ready.bytes;
  pages++;
}
doc.close();
console.log(JSON.stringify({ pages, bytes, peak_rss_bytes: process.resourceUsage().maxRSS * 1024 }));
