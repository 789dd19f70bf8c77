/**
 * Who issued a document (vendor, merchant, manufacturer), read without a label. Position
 * alone is weak evidence: the first name-like line on top is as often a country under a
 * logo ("AUSTRALIA"), a placeholder ("[My company name]"), a heading ("Chapter 16 Router
 * Properties") or a line item ("Gadgets 1 12.50") as the issuer. So every name-like group
 * of words is a candidate, scored by what a reader would check:
 *
 *   header        it sits in the top half of the first page                   +0.25
 *   company form  a company word (Inc, Ltd, Company, Associates, Healthcare…) +0.3
 *   address block an address, postcode, phone, email or web line right under  +0.3
 *   repeated      the same name printed elsewhere on the page (a remit-to)    +0.15
 *   payee label   under "Payable to", "Remit to", "From", "Issued by"…       +0.4
 *   signature     "For <name>" over "Authorised Signatory"                   +0.4
 *
 * and rejected outright when it is a country or state, a bracketed template placeholder,
 * a web domain, a numbered heading, on a line with an amount (a line item or a total), or
 * in the customer's block (under "Bill to", "Ship to", "Patient"…, or the twin of a name
 * that is). The confidence is the OCR confidence × the evidence (at most 0.95), so a name
 * with no more evidence than its position stays under LOCAL_ISSUER_MIN_CONFIDENCE
 * (calibration.ts) and the field is null: "not found", never a confident guess.
 */
import type { Field } from './field-extractor.js';
import { fitValue } from './fit-value.js';
import {
  horizontalOverlap,
  joinWords,
  type Layout,
  meanConfidence,
  type PlacedWord,
  segments,
  trimJunk,
  union,
  wordKey,
} from './layout.js';
import type { Box } from './ocr-engine.js';

export interface IssuerFound {
  value: string | number | boolean;
  words: PlacedWord[];
  confidence: number;
  /** The evidence found, for tests and diagnostics ("header", "company", …). */
  evidence: string[];
}

export const DOCUMENT_TITLES =
  /^(tax |sales |commercial |pro ?forma )?(invoice|receipt|statement|bill|quote|quotation|estimate|credit note|purchase order)s?$/i;

/** Company forms and the trade words companies are named with. */
const COMPANY =
  /\b(inc|ltd|llc|llp|plc|gmbh|ag|sa|sas|srl|bv|nv|pty|oy|ab|kk|corp|corporation|company|co|limited|associates|partners|group|holdings|industries|enterprises?|solutions|services|systems|technologies|consulting|healthcare|hospital|clinic|traders|trading|studio|agency|motors?|bank|foods?|pharmacy|chemist|stores?|shop|restaurant|cafe|café|coffee|deli|bakery|grill|bar|pub|diner|kitchen|pizzeria|bistro|hotel|inn|market|mart|supermarket|grocery|grocers?|stationers?|salon|garage|tickets?|shuttle|taxi|airways|airlines)\b\.?/i;

/** Lines that follow an issuer's name: its address, postcode, phone, email or web site. */
const ADDRESS_LINE = new RegExp(
  [
    String.raw`\d+[a-z]?\s+[\p{L} .]*\b(road|rd|street|st|avenue|ave|lane|ln|drive|dr|blvd|way|place|plaza|court|ct)\b`,
    String.raw`\b(suite|ste|p\.?\s?o\.? box|floor)\b`,
    String.raw`\p{L}{2,},\s*\p{L}`, // "City, California", "San Jose, CA 95134"
    String.raw`^\s*\d{4,6}(-\d{4})?\s*$`, // a postcode on its own line
    String.raw`\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b`, // a UK postcode
    String.raw`\+\d|\(\d{2,4}\)\s*\d|\b\d{3}[-.]\d{3,4}\b`, // a phone number
    String.raw`@|www\.|https?:`,
  ].join('|'),
  'iu',
);

/** Labels over the customer's block: a name under them is the buyer, never the issuer. */
const CUSTOMER_LABEL =
  /\b(bill(ed)? to|ship(ped)? to|sold to|deliver(ed)? to|invoice to|customer|client|patient|buyer|consignee|recipient|attn|attention|place of supply)\b/i;

/** Labels over the issuer: the payee on a statement, the sender on a letterhead. */
const PAYEE_LABEL =
  /\b(payable to|remit(tance)? to|pay to|issued by|from|seller|supplier|vendor|sold by|manufactured by|mfd by)\b/i;

/** The payee label closing the line above a name (or its own line before it). */
const PAYEE_AT_END = new RegExp(`(${PAYEE_LABEL.source})\\s*:?\\s*$`, 'i');

const PAYEE_AT_START = new RegExp(`^(${PAYEE_LABEL.source})\\s*:?$`, 'i');

/** Words of labels and forms, never in the issuer's name itself ("INCOMPLETE VEHICLE MANUFACTURED BY"). */
const LABEL_WORDS = /\b(manufactured|payable|remit|signatory|authori[sz]ed|billed|invoiced)\b/i;

const SIGNATORY = /\b(authori[sz]ed signatory|for and on behalf|signature)\b/i;

/** Countries, and the states and provinces printed alone under a logo. */
const PLACE_ONLY = new Set(
  [
    'australia',
    'usa',
    'u.s.a.',
    'us',
    'united states',
    'united states of america',
    'america',
    'united kingdom',
    'uk',
    'england',
    'scotland',
    'wales',
    'ireland',
    'india',
    'canada',
    'new zealand',
    'germany',
    'deutschland',
    'france',
    'spain',
    'italy',
    'netherlands',
    'belgium',
    'switzerland',
    'austria',
    'sweden',
    'norway',
    'denmark',
    'finland',
    'poland',
    'portugal',
    'japan',
    'china',
    'singapore',
    'hong kong',
    'malaysia',
    'indonesia',
    'philippines',
    'south africa',
    'nigeria',
    'kenya',
    'brazil',
    'mexico',
    'argentina',
    'uae',
    'united arab emirates',
    'california',
    'texas',
    'new york',
    'florida',
    'washington',
    'haryana',
    'delhi',
    'new delhi',
    'ontario',
    'quebec',
    'victoria',
    'queensland',
    'new south wales',
  ].map((p) => p.toLowerCase()),
);

/** A section heading: "I. Executive Summary", "2. Method", "Chapter 16 …", "Section 3 …". */
const NUMBERED_HEADING = /^(([ivxl]+|\d+)[.)]\s|(chapter|section|part|table|figure|appendix)\s+\w)/i;

/** An amount on a line: a line item ("Gadgets 1 12.50") or a total, never an issuer's line. */
const AMOUNT_WORD = /^[-+(]?[$€£¥₹]?\d[\d,]*[.,]\d{2}\)?$/u;

const WEB_DOMAIN = /\.(com|net|org|io|co|biz|info|au|uk|in|de)\b/i;

/** Evidence weights (see the file comment). */
const WEIGHT = { header: 0.25, company: 0.3, address: 0.3, repeated: 0.15, payee: 0.4, signature: 0.4 };

/** Where the first page's header ends: the top half of a page as tall as 1.5 × its width at most. */
function headerBottom(layout: Layout): number {
  return 0.5 * Math.min(layout.page.height, layout.page.width * 1.5);
}

function normalised(text: string): string {
  return text
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Words of the lines just above (`dir` -1) or below (+1) `box`, in its column, nearest first. */
function neighbours(layout: Layout, box: Box, dir: 1 | -1, rows: number): PlacedWord[][] {
  const reach = layout.unit * (rows * 2 + 1);
  const column = { ...box, x0: box.x0 - layout.unit * 2, x1: box.x1 + layout.unit * 2 };
  const found: PlacedWord[][] = [];
  for (const line of layout.lines) {
    const first = line[0];
    if (!first) continue;
    const y = union(line.map((w) => w.box));
    const gap = dir === 1 ? y.y0 - box.y1 : box.y0 - y.y1;
    if (gap < -layout.unit * 0.3 || gap > reach) continue;
    const words = line.filter((w) => horizontalOverlap(w.box, column) > 0);
    if (words.length > 0) found.push(words);
  }
  return found.sort((a, b) => dir * (a[0]!.box.y0 - b[0]!.box.y0)).slice(0, rows);
}

interface Candidate {
  words: PlacedWord[];
  value: string | number | boolean;
  evidence: string[];
  score: number;
}

/** `group` without a document title ("TAX INVOICE") before or after the name. */
function withoutTitle(group: PlacedWord[]): PlacedWord[] {
  const kept = [...group];
  for (let n = Math.min(3, kept.length - 1); n >= 1; n--) {
    if (DOCUMENT_TITLES.test(joinWords(kept.slice(-n)))) {
      kept.splice(-n);
      break;
    }
  }
  for (let n = Math.min(3, kept.length - 1); n >= 1; n--) {
    if (DOCUMENT_TITLES.test(joinWords(kept.slice(0, n)))) {
      kept.splice(0, n);
      break;
    }
  }
  return kept;
}

/**
 * The group without a title around it, without "For " in front (a signature block) and
 * without a payee label in front ("MFD BY TESLA, INC.", "From: Northwind Traders").
 */
function strip(group: PlacedWord[]): { words: PlacedWord[]; forPrefix: boolean; labelled: boolean } {
  const words = withoutTitle(group);
  for (let n = Math.min(3, words.length - 1); n >= 1; n--) {
    if (PAYEE_AT_START.test(joinWords(words.slice(0, n))))
      return { words: words.slice(n), forPrefix: false, labelled: true };
  }
  const forPrefix = words.length > 1 && /^for$/i.test(words[0]!.text);
  return { words: forPrefix ? words.slice(1) : words, forPrefix, labelled: false };
}

function rejected(value: string, line: readonly PlacedWord[]): boolean {
  const plain = value.toLowerCase().replace(/[.,;:]+$/, '');
  if (PLACE_ONLY.has(plain)) return true;
  if (/[[\]{}<>]/.test(value)) return true; // a template's placeholder, or OCR noise
  if (WEB_DOMAIN.test(value) && !/\s/.test(value.trim())) return true;
  if (NUMBERED_HEADING.test(value) || LABEL_WORDS.test(value)) return true;
  return line.some((w) => AMOUNT_WORD.test(w.text.trim()));
}

/**
 * The issuer of the page, or undefined when no group of words reads as one. The
 * confidence says how much evidence there is (see the file comment); the caller drops a
 * value under LOCAL_ISSUER_MIN_CONFIDENCE.
 */
export function readIssuer(field: Field, layout: Layout, used: Set<string>): IssuerFound | undefined {
  const header = headerBottom(layout);
  const lineTexts = layout.lines.map((line) => normalised(joinWords(line)));
  const candidates: Candidate[] = [];
  const customers = new Set<string>();
  for (const line of layout.lines) {
    const free = line.filter((w) => !used.has(wordKey(w)));
    for (const segment of segments(free, layout.unit)) {
      const group = trimJunk(segment);
      if (group.length === 0 || meanConfidence(group) < 0.6) continue;
      const { words, forPrefix, labelled } = strip(group);
      const text = joinWords(words);
      if (words.length === 0 || DOCUMENT_TITLES.test(text)) continue;
      const value = fitValue('name', text, field.node, { order: 'dmy', position: 'anywhere' });
      if (value === undefined || rejected(String(value), line)) continue;
      const box = union(words.map((w) => w.box));
      const above = neighbours(layout, box, -1, 3).map(joinWords);
      // A label on the name's own line before it ("PATIENT: JOHN DOE") counts as above it.
      const before = joinWords(line.filter((w) => w.box.x1 <= box.x0));
      if ([before, ...above].some((t) => CUSTOMER_LABEL.test(t))) {
        customers.add(normalised(String(value)));
        continue;
      }
      const evidence: string[] = [];
      if (box.y0 < header) evidence.push('header');
      if (COMPANY.test(String(value))) evidence.push('company');
      const under = neighbours(layout, box, 1, 3).filter((w) => meanConfidence(w) >= 0.6);
      if (under.some((w) => ADDRESS_LINE.test(joinWords(w)))) evidence.push('address');
      const name = normalised(String(value));
      const own = normalised(joinWords(line));
      if (
        name.includes(' ') &&
        lineTexts.filter((t) => t.includes(name)).length > (own.includes(name) ? 1 : 0)
      )
        evidence.push('repeated');
      if (labelled || [before, above[0] ?? ''].some((t) => PAYEE_AT_END.test(t))) evidence.push('payee');
      if (forPrefix && neighbours(layout, box, 1, 2).some((w) => SIGNATORY.test(joinWords(w))))
        evidence.push('signature');
      // Away from the header, only a label or a signature block says a name is the issuer's.
      if (!evidence.includes('header') && !evidence.includes('payee') && !evidence.includes('signature'))
        continue;
      const score = evidence.reduce((sum, e) => sum + WEIGHT[e as keyof typeof WEIGHT], 0);
      candidates.push({ words, value, evidence, score });
    }
  }
  const best = candidates
    .filter((c) => !customers.has(normalised(String(c.value))))
    .sort((a, b) => b.score - a.score || a.words[0]!.box.y0 - b.words[0]!.box.y0)[0];
  if (!best) return undefined;
  return {
    value: best.value,
    words: best.words,
    confidence: meanConfidence(best.words) * Math.min(0.95, best.score),
    evidence: best.evidence,
  };
}
