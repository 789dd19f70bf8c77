/**
 * Schema-driven extraction from OCR: for every scalar property of the pattern, find its
 * label on the page and read the value beside it (same line, up to the next column), to
 * its right (same row, next column) or under it (next row). A candidate is kept only if
 * it fits the field (fit-value.ts: a date field gets a date, an identifier a token with
 * a digit, a name no address or sentence, and the field's schema accepts it). Candidates
 * from all fields compete in one greedy assignment, strongest first, and a word can feed
 * only one field, so "Due Date" goes to due_date and the plain "Date" to invoice_date.
 * Fields without a label found are tried by kind (unlabelled.ts); what is still not
 * found is null with confidence 0. Arrays of objects (line items) are read as a table
 * (table-extractor.ts).
 */
import type { ObjectSchema, SchemaNode } from '../../patterns/types.js';
import { issuesAgainst } from '../../patterns/validate.js';
import { fieldMinConfidence } from './calibration.js';
import { type DayOrder, documentDayOrder } from './coerce.js';
import { type FieldKind, fieldKind } from './field-kinds.js';
import { type FieldValue, fitValue, readVin } from './fit-value.js';
import { checkedVinConfidence, ID_DOCUMENT_KEY, idNumberShaped, plateEvidence } from './identifier.js';
import { findLabel, type LabelMatch, labelsFor } from './labels.js';
import {
  below,
  buildLayout,
  joinWords,
  type Layout,
  meanConfidence,
  type PlacedWord,
  rightOf,
  segments,
  trimJunk,
  wordKey,
} from './layout.js';
import type { OcrPage } from './ocr-engine.js';
import { blockFirstLine, fitParty, type PartyRole, partyLabels, partyRole } from './party.js';
import { fitPersonName, isPersonField } from './person-name.js';
import { extractTable } from './table-extractor.js';
import { findUnlabelled } from './unlabelled.js';

export interface Field {
  pointer: string;
  key: string;
  node: SchemaNode;
  kind: FieldKind;
  /** The party the field names (bill_to, ship_to, customer), read only from its block (party.ts). */
  party?: PartyRole;
  /** The field holds a person's name (`full_name`, `name`): person-name.ts decides what reads as one. */
  person?: boolean;
}

interface Candidate {
  field: Field;
  value: FieldValue;
  words: PlacedWord[];
  labelWords: PlacedWord[];
  score: number;
  confidence: number;
}

export interface Extraction {
  output: Record<string, unknown>;
  /**
   * JSON pointer → 0–1 confidence, 0 for fields left null; array items' cells too
   * (`/line_items/0/amount`).
   */
  fieldConfidence: Record<string, number>;
  /** Mean confidence over all scalar fields (array cells not included). */
  confidence: number;
}

function types(node: SchemaNode): string[] {
  return Array.isArray(node.type) ? node.type : [node.type];
}

/** Scalar fields of an object schema, recursing into nested objects (not arrays). */
function scalarFields(schema: SchemaNode, prefix = ''): Field[] {
  const fields: Field[] = [];
  for (const [key, node] of Object.entries(schema.properties ?? {})) {
    const pointer = `${prefix}/${key}`;
    if (types(node).includes('object')) fields.push(...scalarFields(node, pointer));
    else {
      const kind = fieldKind(key, node);
      const party = kind === 'name' || kind === 'text' ? partyRole(key, node) : undefined;
      const person = (kind === 'name' || kind === 'text') && isPersonField(key);
      if (kind)
        fields.push({ pointer, key, node, kind, ...(party ? { party } : {}), ...(person ? { person } : {}) });
    }
  }
  return fields;
}

/** Kinds whose values have no shape to check: only text OCR is fairly sure of is taken. */
const FREE_TEXT = new Set<FieldKind>(['name', 'text', 'place', 'identifier', 'enum']);

/** Kinds whose value may sit across a column gap on the label's line ("TOTAL ....... 45.20"). */
const ACROSS_COLUMNS = new Set<FieldKind>(['number', 'integer', 'amount']);

/**
 * A party's name for one of its block labels: on the label's line after it, else the
 * block's first line under it; never a column to its right (another block).
 */
function partyCandidates(field: Field, match: LabelMatch, layout: Layout): Candidate[] {
  const lineWords = layout.lines[match.line]!;
  const labelWords = lineWords.slice(match.start, match.end);
  const options: Array<[PlacedWord[], number]> = [
    [segments(lineWords.slice(match.end), layout.unit)[0] ?? [], 1],
    [blockFirstLine(layout, match.box), 0.9],
  ];
  const found: Candidate[] = [];
  for (const [raw, factor] of options) {
    const words = trimJunk(raw);
    if (words.length === 0 || meanConfidence(words) < 0.5) continue;
    const value = fitParty(joinWords(words));
    if (value === undefined || issuesAgainst(field.node, value).length > 0) continue;
    const confidence = meanConfidence(words) * Math.min(1, match.score) * factor;
    if (confidence < fieldMinConfidence(field.kind)) continue;
    found.push({ field, value, words, labelWords, score: match.score * factor, confidence });
  }
  return found;
}

/** Words that make a date a deadline (due, expiry) rather than the date of the document. */
const DEADLINE = /^(due|expiry|expires|expire|expiration|expiring|valid|until|deadline)$/;

/** Whether a date field holds a deadline (`due_date`, `expiry_date`, `valid_until`). */
function isDeadline(field: Field): boolean {
  const text = `${field.key} ${field.node.title ?? ''}`
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z]+/);
  return text.some((w) => DEADLINE.test(w));
}

/** Whether a date field is about a person (`date_of_birth`, `dob`, "Born"): never read without its label. */
function isPersonalDate(field: Field): boolean {
  return /\b(birth|born|dob|birthday)\b/.test(
    `${field.key} ${field.node.title ?? ''}`
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .replace(/_/g, ' ')
      .toLowerCase(),
  );
}

/**
 * Whether a label match may lead to a date field: a deadline's value needs a deadline word
 * in its label ("Due", "Payment due", "Expiry"), never a bare "Date"; any other date field
 * refuses a label with one ("Date" inside "Due Date" is the due date's label).
 */
function dateLabelFits(field: Field, match: LabelMatch, layout: Layout): boolean {
  const line = layout.lines[match.line]!;
  const matched = line.slice(match.start, match.end).map((w) => w.token);
  const around = line.slice(Math.max(0, match.start - 2), match.end).map((w) => w.token);
  if (isDeadline(field)) return matched.some((t) => DEADLINE.test(t));
  // A birth date only under a birth label ("Date of birth", "DOB"), never a bare "Date".
  if (isPersonalDate(field)) return matched.some((t) => /^(birth|born|dob|birthday)$/.test(t));
  return !around.some((t) => DEADLINE.test(t));
}

/** Amount fields that hold what is finally owed (`total`, `total_amount`, `amount_due`, `balance_due`). */
const GRAND_TOTAL = /^(grand_?)?total(_?amount)?$|^(amount|balance)_?due$/i;

const TAX_WORD = /^(tax|taxes|vat|gst|igst|cgst|sgst|hst|pst)$/;

/** Whether a line under `y` adds a tax amount ("ADD IGST 18%  18000"): a tax word and a number. */
function taxBelow(layout: Layout, y: number): boolean {
  return layout.lines.some(
    (line) =>
      line.length > 0 &&
      line[0]!.box.y0 > y &&
      line.some((w) => TAX_WORD.test(w.token)) &&
      line.some((w) => /\d{2,}/.test(w.text) && !/%$/.test(w.text)),
  );
}

/**
 * The evidence factor (0–1) of a value read under or beside its label, or undefined when
 * an identifier-shaped field's value has none (identifier.ts); 1 for other fields.
 */
function identifierEvidence(
  field: Field,
  value: FieldValue,
  words: readonly PlacedWord[],
): number | undefined {
  if (typeof value !== 'string') return 1;
  switch (field.kind) {
    case 'vin':
      return readVin(joinWords(words), true)?.evidence;
    case 'plate':
      return plateEvidence(value, { labelled: true, photo: false });
    case 'identifier':
      return ID_DOCUMENT_KEY.test(field.key) && !idNumberShaped(value) ? undefined : 1;
    default:
      return 1;
  }
}

/** Candidate values for one label match, in preference order. */
function candidatesFor(field: Field, match: LabelMatch, layout: Layout, order: DayOrder): Candidate[] {
  const lineWords = layout.lines[match.line]!;
  const labelWords = lineWords.slice(match.start, match.end);
  const next = lineWords[match.end];
  // A label running straight into more words is prose ("due on receipt") or a header
  // row of close columns ("Invoice Number  Amount Due"): what is under it is weaker evidence.
  const runsOn = next !== undefined && next.box.x0 - match.box.x1 < layout.unit * 2;
  let after = lineWords.slice(match.end);
  if (!ACROSS_COLUMNS.has(field.kind)) after = segments(after, layout.unit)[0] ?? [];
  const options: Array<[PlacedWord[], number, 'after' | 'right' | 'below']> = [
    [after, 1, 'after'],
    [
      rightOf(layout, match.box, layout.page.width * 0.6).filter((w) => !labelWords.includes(w)),
      0.95,
      'right',
    ],
    [below(layout, match.box), runsOn ? 0.7 : 0.85, 'below'],
  ];
  const found: Candidate[] = [];
  for (const [raw, factor, position] of options) {
    const words = trimJunk(raw);
    if (words.length === 0) continue;
    // Texture and smudges read as letters come with low confidence: not evidence of free
    // text. Values with a checkable shape (a date, a VIN's check digit) may be read anyway.
    if (FREE_TEXT.has(field.kind) && meanConfidence(words) < 0.5) continue;
    const value = field.person
      ? fitPersonName(joinWords(words))
      : fitValue(field.kind, joinWords(words), field.node, { order, position });
    if (value === undefined) continue;
    // Identifiers need evidence beyond their label's: a VIN's check digit, a plate's shape,
    // an identity number's shape (identifier.ts); it scales the confidence.
    const evidence = identifierEvidence(field, value, words);
    if (evidence === undefined) continue;
    // A VIN whose check digit holds is its own evidence, whatever OCR thought of its glyphs.
    const checked = field.kind === 'vin' && readVin(joinWords(words), true)?.checked === true;
    const confidence = checked
      ? checkedVinConfidence(meanConfidence(words)) * Math.min(1, match.score)
      : meanConfidence(words) * Math.min(1, match.score) * evidence;
    if (confidence < fieldMinConfidence(field.kind)) continue; // not supported by the evidence
    // The label decides; OCR confidence only breaks near-ties (a low-confidence "£" must
    // not hand "Subtotal £2,650.00" to a stray "Net 14").
    let score = match.score * factor * (0.85 + 0.15 * meanConfidence(words));
    // Totals add up downwards: of two "Total" lines, the lower one is the amount due
    // (a tax invoice's "Total 100000" before tax, "Total 118000.00" at the foot).
    if (['amount', 'number', 'integer'].includes(field.kind) && GRAND_TOTAL.test(field.key)) {
      // A "Total" with a tax added under it is the total before tax, not what is owed.
      if (taxBelow(layout, match.box.y1)) continue;
      score *= 1 + 0.08 * (match.box.y0 / Math.max(1, layout.page.height));
    }
    found.push({ field, value, words, labelWords, score, confidence });
  }
  return found;
}

function setPointer(target: Record<string, unknown>, pointer: string, value: unknown): void {
  const keys = pointer.split('/').slice(1);
  let node: Record<string, unknown> = target;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys.at(-1)!] = value;
}

/** A skeleton to fill: nulls for scalars, [] for arrays, every nested object built out. */
function skeleton(schema: SchemaNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(schema.properties ?? {})) {
    const t = types(node);
    if (t.includes('object')) out[key] = skeleton(node);
    else if (t.includes('array')) out[key] = [];
    else out[key] = null;
  }
  return out;
}

/** Nested objects that may be null and where nothing was found become null ("not found"). */
function collapseEmpty(schema: SchemaNode, output: Record<string, unknown>): void {
  for (const [key, node] of Object.entries(schema.properties ?? {})) {
    const value = output[key];
    if (!types(node).includes('object') || value === null || typeof value !== 'object') continue;
    const object = value as Record<string, unknown>;
    collapseEmpty(node, object);
    const empty = Object.values(object).every((v) => v === null || (Array.isArray(v) && v.length === 0));
    if (empty && types(node).includes('null')) output[key] = null;
  }
}

export function extractFields(page: OcrPage, schema: ObjectSchema): Extraction {
  const layout = buildLayout(page);
  const order = documentDayOrder(page.text);
  const fields = scalarFields(schema);
  const output = skeleton(schema);
  const fieldConfidence: Record<string, number> = {};
  for (const field of fields) fieldConfidence[field.pointer] = 0;

  const candidates: Candidate[] = [];
  // Words that are some field's label: never an unlabelled value (a heading is not a name).
  const labelWords = new Set<string>();
  for (const field of fields) {
    const labels = field.party ? partyLabels(field.party) : labelsFor(field.key, field.node);
    for (const match of findLabel(layout, labels)) {
      const isDate = field.kind === 'date' || field.kind === 'datetime';
      if (isDate && !dateLabelFits(field, match, layout)) continue;
      candidates.push(
        ...(field.party ? partyCandidates(field, match, layout) : candidatesFor(field, match, layout, order)),
      );
      for (const w of layout.lines[match.line]!.slice(match.start, match.end)) labelWords.add(wordKey(w));
    }
  }
  candidates.sort((a, b) => b.score - a.score);

  const assigned = new Set<string>();
  const used = new Set<string>();
  for (const candidate of candidates) {
    if (assigned.has(candidate.field.pointer)) continue;
    if (candidate.words.some((w) => used.has(wordKey(w)))) continue;
    assigned.add(candidate.field.pointer);
    setPointer(output, candidate.field.pointer, candidate.value);
    fieldConfidence[candidate.field.pointer] = Math.round(candidate.confidence * 100) / 100;
    for (const w of [...candidate.words, ...candidate.labelWords]) used.add(wordKey(w));
  }

  // Fields no label led to: what documents carry without one (the issuer on top, a VIN,
  // an email address, the currency symbol, the only date), tried by kind.
  // A page's only or first date belongs to the pattern's first date field when no date
  // field had a label (a quote dated "October 2, 2045" under its number).
  // A date with no label is never a deadline: a due date is only read under "Due".
  const allDates = fields.filter((f) => f.kind === 'date' || f.kind === 'datetime');
  const noDateLabelled = allDates.every((f) => !assigned.has(f.pointer));
  // Nor is it a date about a person (birth): that is only read under its label.
  const dateFields = allDates.filter((f) => !isDeadline(f) && !isPersonalDate(f));
  for (const field of fields) {
    // A party is only ever read from its block: without its label it is not found.
    if (assigned.has(field.pointer) || field.party) continue;
    const firstDate = noDateLabelled && field === dateFields[0];
    const found = findUnlabelled(field, layout, new Set([...used, ...labelWords]), order, firstDate);
    if (!found || found.confidence < fieldMinConfidence(field.kind)) continue;
    setPointer(output, field.pointer, found.value);
    fieldConfidence[field.pointer] = Math.round(found.confidence * 100) / 100;
    for (const w of found.words) used.add(wordKey(w));
    assigned.add(field.pointer);
  }

  // The record's confidence is the scalar fields' (what LOCAL_MIN_CONFIDENCE is calibrated on).
  const values = Object.values(fieldConfidence);
  const confidence = values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
  for (const [key, node] of Object.entries(schema.properties)) {
    if (types(node).includes('array') && node.items && types(node.items).includes('object')) {
      const table = extractTable(layout, node.items, order, used);
      output[key] = table.items;
      // Each cell of each row: /line_items/0/amount (0 where the cell is null).
      table.confidence.forEach((cells, row) => {
        for (const [column, value] of Object.entries(cells))
          fieldConfidence[`/${key}/${row}/${column}`] = value;
      });
    }
  }

  collapseEmpty(schema, output);
  return { output, fieldConfidence, confidence: Math.round(confidence * 100) / 100 };
}
