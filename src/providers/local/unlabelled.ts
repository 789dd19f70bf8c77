/**
 * Values documents carry without a label, tried for fields no label led to, by kind:
 * the issuer's name on top of an invoice, a person's name in the biggest type near the
 * top of a resume, a VIN, an email address, a phone number or a web address anywhere, a
 * licence plate in a photo, the currency from its symbol, the only date of a pattern
 * with one date field. Each is checked like a labelled value (fit-value.ts) and gets a
 * lower confidence, because position is weaker evidence than a label.
 */

import { issuesAgainst } from '../../patterns/validate.js';
import { issuerMinConfidence } from './calibration.js';
import type { DayOrder } from './coerce.js';
import type { Field } from './field-extractor.js';
import { type FieldValue, fitValue, readVin } from './fit-value.js';
import { checkedVinConfidence, plateEvidence } from './identifier.js';
import { DOCUMENT_TITLES, readIssuer } from './issuer.js';
import {
  joinWords,
  type Layout,
  meanConfidence,
  type PlacedWord,
  segments,
  trimJunk,
  wordKey,
} from './layout.js';
import { fitPersonName, looksLikeResume } from './person-name.js';

export interface Found {
  value: FieldValue;
  /** Words the value was read from (claimed, so no other field reads them). */
  words: PlacedWord[];
  confidence: number;
}

/** Who issued the document (printed on top), as opposed to a person named on it. */
export const ISSUER_KEY =
  /(vendor|merchant|company|store|business|seller|issuer|shop|supplier|manufacturer|maker)/;

/**
 * Groups of unclaimed words, each a run of one line without a column gap, top to bottom,
 * without the noise at their edges; lines that are a document's title are left out.
 */
function groupsTopDown(layout: Layout, used: Set<string>): PlacedWord[][] {
  return layout.lines
    .filter((words) => !DOCUMENT_TITLES.test(joinWords(trimJunk(words))))
    .map((words) => words.filter((w) => !used.has(wordKey(w))))
    .filter((words) => words.length > 0)
    .sort((a, b) => a[0]!.box.y0 - b[0]!.box.y0)
    .flatMap((words) => segments(words, layout.unit))
    .map(trimJunk)
    .filter((words) => words.length > 0);
}

/** Words a person's name never holds: resume and document headings, job titles, company forms. */
const NOT_A_PERSON =
  /\b(experiences?|education|skills?|summary|objective|profile|contact|details|references?|languages?|certificates?|certifications?|strengths|work|employment|projects?|invoice|receipt|total|page|analyst|engineer|manager|developer|intern|scientist|designer|consultant|specialist|assistant|officer|director|remote|senior|junior|ltd|inc|llc|gmbh|corp|co)\b/i;

function height(words: readonly PlacedWord[]): number {
  return Math.max(...words.map((w) => w.box.y1 - w.box.y0));
}

/** A person's name: the biggest type in the top half of the page that reads as a name. */
function headline(field: Field, layout: Layout, used: Set<string>): Found | undefined {
  const top = layout.page.height * 0.5;
  const groups = groupsTopDown(layout, used).filter(
    (g) => g[0]!.box.y0 < top && g.length >= 2 && meanConfidence(g) >= 0.6,
  );
  groups.sort((a, b) => height(b) - height(a));
  for (const words of groups.slice(0, 3)) {
    // A person's name starts with a letter and holds none of the words headings and titles use.
    if (NOT_A_PERSON.test(joinWords(words)) || !/^\p{L}/u.test(joinWords(words))) continue;
    const value = fitValue('name', joinWords(words), field.node, { order: 'dmy', position: 'anywhere' });
    if (value !== undefined) return { value, words, confidence: meanConfidence(words) * 0.5 };
  }
  return undefined;
}

/** The first line (or line segment) anywhere whose text holds a value of the field's kind. */
function anywhere(
  field: Field,
  layout: Layout,
  used: Set<string>,
  order: DayOrder,
  minConfidence: number,
  weight = 0.6,
): Found | undefined {
  for (const words of groupsTopDown(layout, used)) {
    if (meanConfidence(words) < minConfidence) continue;
    const value = fitValue(field.kind, joinWords(words), field.node, { order, position: 'anywhere' });
    if (value !== undefined) return { value, words, confidence: meanConfidence(words) * weight };
  }
  return undefined;
}

/** A page with at most this many words OCR is sure of (≥ 0.6) is a photo, not a document. */
const PHOTO_MAX_WORDS = 12;

/**
 * A plate without a plate label: only in a photo (a page of a few confident words), only
 * the text in the biggest type there, and only with a plate's shape (identifier.ts). A
 * document's number, a date or a phone number is never a plate without its label.
 */
function plate(field: Field, layout: Layout, used: Set<string>): Found | undefined {
  const confident = layout.lines.flat().filter((w) => w.confidence >= 0.6);
  if (confident.length === 0 || confident.length > PHOTO_MAX_WORDS) return undefined;
  const biggest = Math.max(...confident.map((w) => w.box.y1 - w.box.y0));
  for (const words of groupsTopDown(layout, used)) {
    if (meanConfidence(words) < 0.6 || height(words) < biggest) continue;
    const value = fitValue('plate', joinWords(words), field.node, { order: 'dmy', position: 'anywhere' });
    if (typeof value !== 'string') continue;
    const line = layout.lines.find((l) => l.includes(words[0]!)) ?? [];
    const before = line[line.indexOf(words[0]!) - 1]?.text;
    const evidence = plateEvidence(value, { labelled: false, photo: true, ...(before ? { before } : {}) });
    if (evidence !== undefined) return { value, words, confidence: meanConfidence(words) * 0.8 * evidence };
  }
  return undefined;
}

/**
 * A VIN without a label: a North-American VIN whose check digit holds (its confidence from
 * the check, checkedVinConfidence, × 0.8 for no label), or another region's printed as one
 * word (identifier.ts: OCR confidence × 0.6 × 0.5).
 */
function vin(field: Field, layout: Layout, used: Set<string>): Found | undefined {
  for (const words of groupsTopDown(layout, used)) {
    if (meanConfidence(words) < 0.5) continue;
    const read = readVin(joinWords(words), false);
    if (read === undefined || issuesAgainst(field.node, read.vin).length > 0) continue;
    const ocr = meanConfidence(words);
    // Without a label, position is weak evidence; a check digit that holds is strong.
    const confidence = read.checked ? checkedVinConfidence(ocr) * 0.8 : ocr * 0.6 * read.evidence;
    return { value: read.vin, words, confidence };
  }
  return undefined;
}

/**
 * A person's name without a label: the headline on top of a resume (person-name.ts), never
 * a heading on top of any other page.
 */
function personHeadline(field: Field, layout: Layout, used: Set<string>): Found | undefined {
  if (!looksLikeResume(layout.page.text)) return undefined;
  const top = layout.page.height * 0.5;
  const groups = groupsTopDown(layout, used).filter(
    (g) => g[0]!.box.y0 < top && g.length >= 2 && meanConfidence(g) >= 0.6,
  );
  groups.sort((a, b) => height(b) - height(a));
  for (const words of groups.slice(0, 3)) {
    const value = fitPersonName(joinWords(words));
    if (value !== undefined && issuesAgainst(field.node, value).length === 0)
      return { value, words, confidence: meanConfidence(words) * 0.5 };
  }
  return undefined;
}

export function findUnlabelled(
  field: Field,
  layout: Layout,
  used: Set<string>,
  order: DayOrder,
  firstDateField: boolean,
): Found | undefined {
  switch (field.kind) {
    case 'name': {
      if (field.person) return personHeadline(field, layout, used);
      if (!ISSUER_KEY.test(field.key)) return headline(field, layout, used);
      // Position alone is no evidence of who issued a document: under the calibrated
      // threshold the issuer is "not found", never a confident guess.
      const found = readIssuer(field, layout, used);
      return found && found.confidence >= issuerMinConfidence() ? found : undefined;
    }
    case 'email':
    case 'phone':
    case 'url':
      return anywhere(field, layout, used, order, 0.5);
    case 'vin':
      return vin(field, layout, used);
    case 'plate':
      return plate(field, layout, used);
    case 'currency': {
      // Symbols are small and often read with low confidence: the whole page is the
      // evidence, but not what OCR all but guessed (a smudge read as "£24" at 0.4).
      const text = layout.lines.map((line) => joinWords(line.filter((w) => w.confidence >= 0.5))).join('\n');
      // Then light text on coloured bands (a "Total (USD)" header in white on green), which
      // the page's own reading loses: only when the page names no currency itself.
      const bands = (layout.page.bands ?? [])
        .map((line) =>
          line.words
            .filter((w) => w.confidence >= 0.5)
            .map((w) => w.text)
            .join(' '),
        )
        .join('\n');
      const value =
        fitValue('currency', text, field.node, { order, position: 'anywhere' }) ??
        fitValue('currency', bands, field.node, { order, position: 'anywhere' });
      return value === undefined ? undefined : { value, words: [], confidence: 0.6 };
    }
    case 'date':
    case 'datetime':
      return firstDateField ? anywhere(field, layout, used, order, 0.5, 0.4) : undefined;
    default:
      return undefined;
  }
}
