/**
 * Parties named on a document other than its issuer: who is billed (`bill_to`, `customer`,
 * `sold_to`, `client`) and where goods go (`ship_to`, `deliver_to`, `consignee`). Such a
 * name is only evidence when it sits in its block: on the line after, or the first line
 * under, a label of the same role ("Bill To", "Billed To", "Invoice To", "Customer";
 * "Ship To", "Deliver To"). Position alone is no evidence (the biggest name on a page is
 * as often the issuer), so a party field without its label found is null. Even under its
 * label, a line is refused when it is not a name:
 *
 *   heading or instruction   "PAY THIS AMOUNT", "Place of Supply", "Billed charges to"
 *   placeholder              "City, State", "City, California", "[Client name]", "Your Name"
 *   address, phone, email    "1234 Clients Street", "(360) 385-2200"
 *   line item or amount      "Services 1 $55.00", "Total 1,699.48"
 *
 * The confidence is the label match (0–1) × the OCR confidence of the words × 0.9 for a
 * name under its label (1 on the label's line), so it comes from the evidence itself.
 */
import type { SchemaNode } from '../../patterns/types.js';
import { fitName } from './fit-value.js';
import type { Label } from './labels.js';
import { horizontalOverlap, type Layout, type PlacedWord } from './layout.js';
import type { Box } from './ocr-engine.js';

export type PartyRole = 'bill' | 'ship';

const SHIP_KEY = /\b(ship(ped|ping)?\s*to|deliver(ed|y)?(\s*to)?|consignee|recipient)\b/;
const BILL_KEY = /\b(bill(ed|ing)?\s*to|invoice(d)?\s*to|sold\s*to|customer|client|buyer|purchaser)\b/;

function words(key: string, node: SchemaNode): string {
  return [key, node.title ?? '']
    .join(' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[_\-/.]+/g, ' ')
    .toLowerCase();
}

/**
 * The party a field names, from its key and title (`bill_to`, `customer_name`,
 * `shipTo`), or undefined for any other field (a vendor, a patient, an address field:
 * `bill_to_address` is an address, not a party's name).
 */
export function partyRole(key: string, node: SchemaNode): PartyRole | undefined {
  const text = words(key, node);
  if (/\b(address|street|city|state|zip|postcode|phone|email|tel|country|number|id|no)\b/.test(text))
    return undefined;
  if (SHIP_KEY.test(text)) return 'ship';
  if (BILL_KEY.test(text)) return 'bill';
  return undefined;
}

/** Labels printed over each role's block (tokens as labels.ts matches them). */
const ROLE_LABELS: Record<PartyRole, string[][]> = {
  bill: [
    ['bill', 'to'],
    ['billed', 'to'],
    ['billing', 'to'],
    ['invoice', 'to'],
    ['invoiced', 'to'],
    ['sold', 'to'],
    ['customer'],
    ['client'],
    ['buyer'],
    ['purchaser'],
  ],
  ship: [
    ['ship', 'to'],
    ['shipped', 'to'],
    ['deliver', 'to'],
    ['delivered', 'to'],
    ['delivery', 'address'],
    ['consignee'],
    ['recipient'],
  ],
};

/**
 * The labels of a party's block: whole labels only (never one word of them, so "to" or
 * "bill" alone leads nowhere).
 */
export function partyLabels(role: PartyRole): Label[] {
  return ROLE_LABELS[role].map((tokens) => ({ tokens, weight: 1 }));
}

/** Words of headings, captions and instructions: a line holding one is not a party's name. */
const NOT_A_PARTY =
  /\b(pay|paid|amount|amounts|charges?|total|subtotal|balance|due|date|dated|number|no|invoice|receipt|statement|quote|supply|payment|method|terms|description|qty|quantity|price|rate|tax|gst|vat|account|acct|page|signature|details|information|address|phone|tel|email|attn|attention|to|from|same|above|below|please|thank)\b/i;

/** A template's stand-ins for a party's lines. */
const PLACEHOLDER =
  /^(your|client|customer|company|business|contact|full)?\s*(name|company name|client name|customer name)$|^(city|town|state|province|country|zip|postcode|street|address)\b\s*[,:]|^(city|state)$|[[\]{}<>]/i;

/** Address, phone, email or web lines (what follows a name in its block, never the name). */
const CONTACT_LINE =
  /^\s*\d+[a-z]?\s+\p{L}|\b(road|rd|street|st|avenue|ave|lane|ln|drive|dr|blvd|suite|ste|floor|p\.?\s?o\.?\s?box)\b|\p{L}{2,},\s*\p{L}{2,}|\+\d|\(\d{2,4}\)|\d{3}[-.\s]\d{3,4}|@|www\.|https?:|\d{4,}/iu;

/** An amount: a line item or a total, never a name. */
const AMOUNT = /[$€£¥₹]\s?\d|\b\d[\d,]*[.,]\d{2}\b/u;

/**
 * `text` read as a party's name, or undefined when it is a heading, an instruction, a
 * template placeholder, an address, a contact line, a line item or an amount.
 */
export function fitParty(text: string): string | undefined {
  const value = fitName(text);
  if (value === undefined) return undefined;
  if (NOT_A_PARTY.test(value) || PLACEHOLDER.test(value.trim())) return undefined;
  if (CONTACT_LINE.test(value) || AMOUNT.test(value)) return undefined;
  return value;
}

/**
 * The words of the first line under `box` (within `reach` letter heights) that starts in
 * the label's column, through word spaces but not column gaps: a block's first line.
 */
export function blockFirstLine(layout: Layout, box: Box, reach = 4): PlacedWord[] {
  const unit = layout.unit;
  const column = { ...box, x0: box.x0 - unit, x1: box.x1 + unit };
  for (const row of layout.rows) {
    if (row.box.y0 <= box.y1 - unit * 0.3 || row.box.y0 > box.y1 + unit * reach) continue;
    const start = row.words.findIndex((w) => horizontalOverlap(w.box, column) > 0);
    if (start < 0) continue;
    // The block's line starts at or near the label's left edge, not far inside it.
    if (row.words[start]!.box.x0 > box.x0 + unit * 3) continue;
    let end = start + 1;
    while (end < row.words.length && row.words[end]!.box.x0 - row.words[end - 1]!.box.x1 < unit * 2) end++;
    return row.words.slice(start, end);
  }
  return [];
}
