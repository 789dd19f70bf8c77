/**
 * Issue 11 §7 (fresh-user trial): every field the local engine gives needs evidence of its
 * own kind, else it is null with confidence 0. Rules, each with the trial's example:
 *
 *   parties    bill_to / ship_to / customer only from the block under or after their
 *              label; never a caption ("PAY THIS AMOUNT"), a placeholder ("City,
 *              California"), an address, a line item or an amount
 *   dates      a due date only under a deadline label ("Due", "Payment due"); a date
 *              with no label is never a due date; "Date" inside "Due Date" is not the
 *              issue date's label
 *   phones     a phone label, or a phone-shaped number (+country, (area), 10+ digits)
 *              that is not part of another identifier ("QT-2045-112") nor an amount
 *   totals     a "Total" with a tax added under it is not what is owed
 *
 * Synthetic OCR pages: the words and boxes tesseract gives for left-aligned text.
 */
import { describe, expect, it } from 'vitest';
import type { ObjectSchema, SchemaNode } from '../../src/patterns/types.js';
import { extractFields } from '../../src/providers/local/field-extractor.js';
import { fitPhone } from '../../src/providers/local/fit-value.js';
import type { OcrLine, OcrPage } from '../../src/providers/local/ocr-engine.js';
import { fitParty, partyRole } from '../../src/providers/local/party.js';
import { ocrLine, ocrPage } from '../support/ocr-lines.js';

/** One line at row `row` from x `x` (test/support/ocr-lines.ts). */
function line(text: string, row: number, x = 60, confidence = 0.95): OcrLine {
  return ocrLine(text, row, { x, confidence });
}

function page(lines: ReadonlyArray<string | [string, number, number]>): OcrPage {
  return ocrPage(lines.map((l, i) => (typeof l === 'string' ? line(l, i) : line(l[0], l[1], l[2]))));
}

const nullable = (node: SchemaNode): SchemaNode => ({
  ...node,
  type: [node.type, 'null'] as SchemaNode['type'],
});
function schema(properties: Record<string, SchemaNode>): ObjectSchema {
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, nullable(v)])),
    required: [],
    additionalProperties: false,
  };
}
const str: SchemaNode = { type: 'string' };
const parties = schema({ bill_to: str, ship_to: str, total: { type: 'number' } });

describe('party blocks (bill_to, ship_to, customer)', () => {
  it('knows a party field by its key, and not an address or a number of one', () => {
    expect(partyRole('bill_to', str)).toBe('bill');
    expect(partyRole('customer_name', str)).toBe('bill');
    expect(partyRole('shipTo', str)).toBe('ship');
    expect(partyRole('bill_to_address', str)).toBeUndefined();
    expect(partyRole('customer_id', str)).toBeUndefined();
    expect(partyRole('vendor_name', str)).toBeUndefined();
  });

  it('refuses captions, placeholders, addresses, line items and amounts as a name', () => {
    expect(fitParty('PAY THIS AMOUNT')).toBeUndefined();
    expect(fitParty('PAY THIS')).toBeUndefined();
    expect(fitParty('City, California')).toBeUndefined();
    expect(fitParty('City, State')).toBeUndefined();
    expect(fitParty('[Client name]')).toBeUndefined();
    expect(fitParty('Place of Supply')).toBeUndefined();
    expect(fitParty('Billed charges to')).toBeUndefined();
    expect(fitParty('1234 Clients Street')).toBeUndefined();
    expect(fitParty('Services 1 $55.00')).toBeUndefined();
    expect(fitParty('Your Client')).toBe('Your Client');
    expect(fitParty('Abhay Electric Agencies')).toBe('Abhay Electric Agencies');
  });

  it('reads the first line of the block under its label, skipping nothing else', () => {
    const read = extractFields(
      page(['Billed To', 'Your Client', '1234 Clients Street', 'City, California', '90210']),
      parties,
    );
    expect(read.output.bill_to).toBe('Your Client');
    expect(read.output.ship_to).toBeNull();
    expect(read.fieldConfidence['/ship_to']).toBe(0);
    // The evidence makes the confidence: the label matched whole × OCR confidence × 0.9 under it.
    expect(read.fieldConfidence['/bill_to']).toBeCloseTo(Math.round(0.95 * 0.9 * 100) / 100, 2);
  });

  it('is null without its label: a caption or an address on the page is no party', () => {
    const read = extractFields(
      page(['PAY THIS AMOUNT', '39.65', 'JOHN DOE', '834 SHERIDAN', 'City, California']),
      parties,
    );
    expect(read.output.bill_to).toBeNull();
    expect(read.output.ship_to).toBeNull();
    expect(read.fieldConfidence['/bill_to']).toBe(0);
  });

  it('under its label, a placeholder or an address is refused and the field stays null', () => {
    const read = extractFields(page(['Bill To', 'City, California', '90210']), parties);
    expect(read.output.bill_to).toBeNull();
    // Another block's column on the label's row is not the party ("Bill to   Place of Supply").
    const side = extractFields(page(['Bill to  Place of Supply', 'Abhay Electric Agencies']), parties);
    expect(side.output.bill_to).toBe('Abhay Electric Agencies');
  });
});

describe('dates decided by their labels', () => {
  const dates = schema({ due_date: { type: 'string', format: 'date' }, invoice_date: str });

  it('a date with no label is never the due date, even when due_date is the first date field', () => {
    const read = extractFields(page(['Quote QT-2045-112', 'October 2, 2045']), dates);
    expect(read.output.due_date).toBeNull();
    expect(read.fieldConfidence['/due_date']).toBe(0);
    expect(read.output.invoice_date).toBe('2045-10-02');
  });

  it('"Due Date" goes to the due date and "Invoice Date" to the issue date, in either order', () => {
    const read = extractFields(page(['Due Date: 13 Feb 2024', 'Invoice Date: 29 Jan 2024']), dates);
    expect(read.output.due_date).toBe('2024-02-13');
    expect(read.output.invoice_date).toBe('2024-01-29');
  });

  it('a bare "Date" is not a due date label, and "Payment due" is', () => {
    const only = extractFields(page(['Date: 29 Jan 2024']), dates);
    expect(only.output.due_date).toBeNull();
    expect(only.output.invoice_date).toBe('2024-01-29');
    const due = extractFields(page(['Statement Date 2012-08-07', 'Payment due by: 2012-09-06']), dates);
    expect(due.output.due_date).toBe('2012-09-06');
  });
});

describe('phone numbers need phone evidence', () => {
  const contacts = schema({ invoice_number: str, phone: str });

  it('never reads a phone from a quote or invoice number, an amount or a broken number', () => {
    expect(fitPhone('QT-2045-112', false)).toBeUndefined();
    expect(fitPhone('QT-2045-112')).toBeUndefined();
    expect(fitPhone('Invoice No. 2045112')).toBeUndefined();
    expect(fitPhone('118000.00')).toBeUndefined();
    expect(fitPhone('+1 (1) 123-4567', false)).toBeUndefined();
    expect(fitPhone('2045-112', false)).toBeUndefined();
  });

  it('takes a labelled number, or an unlabelled one shaped like a phone', () => {
    expect(fitPhone('PHONE: (360) 385-2200')).toBe('(360) 385-2200');
    expect(fitPhone('Tel 385-2200')).toBe('385-2200');
    expect(fitPhone('+1 (111) 123-4567', false)).toBe('+1 (111) 123-4567');
    expect(fitPhone('1-888-123-4567', false)).toBe('1-888-123-4567');
  });

  it('on a page: the quote number is no phone (null, confidence 0); a labelled phone is read', () => {
    const quote = extractFields(page(['Quote', 'QT-2045-112', 'October 2, 2045']), contacts);
    expect(quote.output.phone).toBeNull();
    expect(quote.fieldConfidence['/phone']).toBe(0);
    const labelled = extractFields(page(['Phone: (360) 385-2200']), contacts);
    expect(labelled.output.phone).toBe('(360) 385-2200');
  });
});

describe('the total is what is owed', () => {
  it('a "Total" with a tax added under it is not the total; the last total after the tax is', () => {
    const beforeTax = extractFields(page(['Total  100000', 'ADD IGST 18%  18000']), parties);
    expect(beforeTax.output.total).toBeNull();
    const read = extractFields(page(['Subtotal  1798.39', 'Tax  80.93', 'Total  1699.48']), parties);
    expect(read.output.total).toBe(1699.48);
  });
});
