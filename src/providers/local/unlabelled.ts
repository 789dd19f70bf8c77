/**
 * Values documents carry without a label, tried for fields no label led to, by kind:
 * the issuer's name on top of an invoice, a person's name in the biggest type near the
 * top of a resume, a VIN, an email address, a phone number or a web address anywhere, a
 * licence plate in a photo, the currency from its symbol, the only date of a pattern
 * with one date field. Each is checked like a labelled value (fit-value.ts) and gets a
 * lower confidence, because position is weaker evidence than a label.
 */
import { issuerMinConfidence } from './calibration.js';
import type { DayOrder } from './coerce.js';
import type { Field } from './field-extractor.js';
import { type FieldValue, fitValue } from './fit-value.js';
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

/** A plate in a photo: of the plate-like groups OCR is sure of, the one in the biggest type. */
function plate(field: Field, layout: Layout, used: Set<string>): Found | undefined {
  const found: Array<Found & { size: number }> = [];
  for (const words of groupsTopDown(layout, used)) {
    if (meanConfidence(words) < 0.6) continue;
    const value = fitValue('plate', joinWords(words), field.node, { order: 'dmy', position: 'anywhere' });
    if (value !== undefined)
      found.push({ value, words, confidence: meanConfidence(words) * 0.4, size: height(words) });
  }
  return found.sort((a, b) => b.size - a.size)[0];
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
      if (!ISSUER_KEY.test(field.key)) return headline(field, layout, used);
      // Position alone is no evidence of who issued a document: under the calibrated
      // threshold the issuer is "not found", never a confident guess.
      const found = readIssuer(field, layout, used);
      return found && found.confidence >= issuerMinConfidence() ? found : undefined;
    }
    case 'email':
    case 'phone':
    case 'url':
    case 'vin':
      return anywhere(field, layout, used, order, 0.5);
    case 'plate':
      return plate(field, layout, used);
    case 'currency': {
      // Symbols are small and often read with low confidence: the whole page is the
      // evidence, but not what OCR all but guessed (a smudge read as "£24" at 0.4).
      const text = layout.lines.map((line) => joinWords(line.filter((w) => w.confidence >= 0.5))).join('\n');
      const value = fitValue('currency', text, field.node, { order, position: 'anywhere' });
      return value === undefined ? undefined : { value, words: [], confidence: 0.6 };
    }
    case 'date':
    case 'datetime':
      return firstDateField ? anywhere(field, layout, used, order, 0.5, 0.4) : undefined;
    default:
      return undefined;
  }
}
