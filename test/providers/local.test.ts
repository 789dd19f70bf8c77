import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/image/fingerprint.js';
import { parsePattern } from '../../src/patterns/index.js';
import type { Pattern } from '../../src/patterns/types.js';
import { LocalProvider } from '../../src/providers/local.js';
import type { ProviderImage } from '../../src/providers/spec.js';
import { photoLikeJpeg, textImage } from '../support/images.js';

const invoicePattern: Pattern = parsePattern(
  {
    name: 'invoice',
    format: 'json',
    instructions: 'Extract the invoice fields.',
    json_schema: {
      type: 'object',
      properties: {
        vendor_name: { type: 'string' },
        invoice_number: { type: 'string', title: 'Invoice Number', description: 'Invoice No / Invoice #' },
        invoice_date: { type: 'string', format: 'date', description: 'Date issued' },
        due_date: { type: 'string', format: 'date' },
        currency: { type: 'string' },
        subtotal: { type: 'number' },
        tax: { type: 'number', description: 'Tax / VAT' },
        total: { type: 'number', description: 'Total / Amount due' },
        paid: { type: 'boolean' },
        po_number: { type: 'string', description: 'Purchase order' },
        line_items: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              description: { type: 'string' },
              quantity: { type: 'number' },
              unit_price: { type: 'number' },
              amount: { type: 'number' },
            },
          },
        },
      },
    },
  },
  'test-invoice',
);

const receiptPattern: Pattern = parsePattern(
  {
    name: 'receipt',
    format: 'csv',
    instructions: 'One row per receipt.',
    csv_schema: 'merchant_name,date,total_amount,category',
  },
  'test-receipt',
);

function image(data: Buffer): ProviderImage {
  return { data, format: 'jpeg', width: 0, height: 0, sha256: sha256(data) };
}

let provider: LocalProvider;
let cwdBefore: string[];

beforeAll(async () => {
  cwdBefore = (await readdir(process.cwd())).sort();
  provider = new LocalProvider({ workers: 2 });
});

afterAll(async () => {
  await provider.close();
});

describe('local provider', () => {
  it('reads labelled fields on the same line, in a second column and under their labels', async () => {
    const doc = await textImage([
      { text: 'NORTHWIND TRADERS LTD', bold: true, size: 44 },
      '12 Harbour Road, Bristol',
      '',
      { text: 'Invoice No: INV-20417', x: 60 },
      { text: 'Date Issued', x: 60 },
      { text: 'Due Date', x: 600, sameLine: true },
      { text: '14/03/2024', x: 60 },
      { text: '13/04/2024', x: 600, sameLine: true },
      '',
      { text: 'Description', x: 60 },
      { text: 'Qty', x: 700, sameLine: true },
      { text: 'Unit Price', x: 860, sameLine: true },
      { text: 'Amount', x: 1140, sameLine: true },
      { text: 'Widget assembly', x: 60 },
      { text: '4', x: 700, sameLine: true },
      { text: '12.50', x: 860, sameLine: true },
      { text: '50.00', x: 1140, sameLine: true },
      { text: 'Installation service', x: 60 },
      { text: '2', x: 700, sameLine: true },
      { text: '75.00', x: 860, sameLine: true },
      { text: '150.00', x: 1140, sameLine: true },
      '',
      { text: 'Subtotal', x: 700 },
      { text: '£200.00', x: 1100, sameLine: true },
      { text: 'VAT 20%', x: 700 },
      { text: '£40.00', x: 1100, sameLine: true },
      { text: 'TOTAL', x: 700, bold: true },
      { text: '£240.00', x: 1100, sameLine: true, bold: true },
      'Paid: Yes',
    ]);
    const result = await provider.extract(
      { image: image(doc), pattern: invoicePattern, model: 'tesseract-eng' },
      AbortSignal.timeout(60_000),
    );
    expect(result.output).toMatchObject({
      vendor_name: 'NORTHWIND TRADERS LTD',
      invoice_number: 'INV-20417',
      invoice_date: '2024-03-14',
      due_date: '2024-04-13',
      currency: 'GBP',
      subtotal: 200,
      tax: 40,
      total: 240,
      paid: true,
      po_number: null,
    });
    expect((result.output as { line_items: unknown[] }).line_items).toEqual([
      { description: 'Widget assembly', quantity: 4, unit_price: 12.5, amount: 50 },
      { description: 'Installation service', quantity: 2, unit_price: 75, amount: 150 },
    ]);
    expect(result.usage).toEqual({ input_tokens: 0, output_tokens: 0, image_tokens: 0, estimated: false });
    expect(result.fieldConfidence?.['/total']).toBeGreaterThan(0.5);
    expect(result.fieldConfidence?.['/po_number']).toBe(0);
  });

  it('a value or table cell that does not fit its field is null, never a failed record', async () => {
    const pattern = parsePattern(
      {
        name: 'strict',
        format: 'json',
        instructions: 'x',
        json_schema: {
          type: 'object',
          required: ['invoice_number', 'invoice_date', 'total'],
          properties: {
            invoice_number: { type: 'string', pattern: '^INV-[0-9]+$' },
            invoice_date: { type: 'string' },
            total: { type: 'number', maximum: 100 },
            line_items: {
              type: 'array',
              items: {
                type: 'object',
                properties: { description: { type: 'string' }, quantity: { type: 'integer' } },
              },
            },
          },
        },
      },
      'strict',
    );
    const doc = await textImage([
      { text: 'Invoice No: 20417', x: 60 },
      { text: 'Invoice Date: see email.', x: 60 },
      '',
      { text: 'Description', x: 60 },
      { text: 'Quantity', x: 700, sameLine: true },
      { text: 'Cable', x: 60 },
      { text: '1.5', x: 700, sameLine: true },
      { text: 'Plug', x: 60 },
      { text: '3', x: 700, sameLine: true },
      '',
      { text: 'TOTAL 240.00', x: 60 },
    ]);
    const result = await provider.extract(
      { image: image(doc), pattern, model: 'tesseract-eng' },
      AbortSignal.timeout(60_000),
    );
    // 20417 breaks the pattern, "see email." is no date, 240 breaks the maximum: not found.
    expect(result.output).toEqual({
      invoice_number: null,
      invoice_date: null,
      total: null,
      line_items: [
        { description: 'Cable', quantity: null },
        { description: 'Plug', quantity: 3 },
      ],
    });
    expect(result.fieldConfidence).toMatchObject({ '/invoice_number': 0, '/invoice_date': 0, '/total': 0 });
  });

  it('fills fields of an optional nested object, and leaves it null when none is found', async () => {
    const pattern = parsePattern(
      {
        name: 'nested',
        format: 'json',
        instructions: 'x',
        json_schema: {
          type: 'object',
          properties: {
            seller: { type: 'object', properties: { phone: { type: 'string' } } },
            buyer: { type: 'object', properties: { email: { type: 'string' } } },
          },
        },
      },
      'nested',
    );
    expect(pattern.schema.properties.seller?.type).toEqual(['object', 'null']);
    const doc = await textImage(['ACME PARTS', 'Phone: +44 20 7946 0958']);
    const result = await provider.extract(
      { image: image(doc), pattern, model: 'tesseract-eng' },
      AbortSignal.timeout(60_000),
    );
    expect(result.output).toEqual({ seller: { phone: '+44 20 7946 0958' }, buyer: null });
  });

  it('fills a CSV receipt pattern: unlabelled merchant on top, a bare date, the total', async () => {
    const doc = await textImage(
      [
        { text: 'BLUE BOTTLE CAFE', bold: true, size: 40 },
        '300 Webster St, Oakland CA',
        '03/22/2024  08:14',
        'Latte            4.50',
        'Croissant        3.75',
        'Subtotal         8.25',
        'Tax              0.74',
        { text: 'TOTAL            $8.99', bold: true },
        'Category: Meals',
      ],
      { width: 900 },
    );
    const result = await provider.extract(
      { image: image(doc), pattern: receiptPattern, model: 'tesseract-eng' },
      AbortSignal.timeout(60_000),
    );
    expect(result.output).toEqual({
      merchant_name: 'BLUE BOTTLE CAFE',
      date: '2024-03-22',
      total_amount: 8.99,
      category: 'Meals',
    });
  });

  it('answers relevance from OCR evidence', async () => {
    const receipt = await textImage(['ACME HARDWARE', 'Date 2024-01-05', 'TOTAL 12.00'], { width: 800 });
    const yes = await provider.ask!(
      {
        image: image(receipt),
        question: 'Is this a receipt?',
        pattern: receiptPattern,
        model: 'tesseract-eng',
      },
      AbortSignal.timeout(60_000),
    );
    expect(yes.answer).toBe(true);
    expect(yes.reason).toMatch(/^receipt: found labels date .*; values fitting date, total_amount/i);
    const photo = await photoLikeJpeg(800, 600, 42);
    const no = await provider.ask!(
      {
        image: image(photo),
        question: 'Is this a receipt?',
        pattern: receiptPattern,
        model: 'tesseract-eng',
      },
      AbortSignal.timeout(60_000),
    );
    expect(no.answer).toBe(false);
  });

  it('judges relevance by the pattern: a page full of words of another kind is not a receipt', async () => {
    const resume = await textImage(
      [
        { text: 'JORDAN AVERY', bold: true, size: 40 },
        'Senior Software Engineer with eight years building payment systems',
        'Experience: led a team of six engineers shipping services in Go',
        'Education: Master of Science in Computer Science, University of Leeds',
        'Skills: distributed systems, PostgreSQL, Kubernetes, observability',
        'Languages: English, Spanish, conversational German and some French',
      ],
      { width: 1400 },
    );
    const no = await provider.ask!(
      {
        image: image(resume),
        question: 'Is this a receipt?',
        pattern: receiptPattern,
        model: 'tesseract-eng',
      },
      AbortSignal.timeout(60_000),
    );
    expect(no.answer, no.reason).toBe(false);
    expect(no.reason).toMatch(/readable words but not a receipt: none of its labels/i);
  });

  it('writes nothing into the working directory (no traineddata cache, no downloads)', async () => {
    expect((await readdir(process.cwd())).sort()).toEqual(cwdBefore);
  });
});
