/** Small fixtures for runs against the simulator: a pattern and images as providers receive them. */
import sharp from 'sharp';
import { sha256 } from '../../src/image/fingerprint.js';
import { parsePattern } from '../../src/patterns/index.js';
import type { Pattern } from '../../src/patterns/types.js';
import type { ProviderImage } from '../../src/providers/spec.js';

export const invoicePattern: Pattern = parsePattern(
  {
    name: 'Invoice (basic)',
    format: 'json',
    instructions: 'Extract the invoice number, the vendor and the total.',
    json_schema: {
      type: 'object',
      properties: {
        invoice_number: { type: 'string', title: 'Invoice Number', description: 'Invoice No / Invoice #' },
        vendor_name: { type: 'string' },
        invoice_date: { type: 'string', format: 'date' },
        total: { type: 'number', description: 'Total / Amount due' },
        status: { type: 'string', enum: ['paid', 'unpaid'] },
        line_items: {
          type: 'array',
          items: {
            type: 'object',
            properties: { description: { type: 'string' }, amount: { type: 'number' } },
          },
        },
      },
      required: ['invoice_number', 'total'],
    },
  },
  'simulator-fixture',
);

/** A plain JPEG of the given size (the token formulas only care about dimensions). */
export async function solidJpeg(width: number, height: number, colour = '#f4f4f4'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

/** Bytes as the pipeline hands them to a provider, dimensions read from the image. */
export async function asProviderImage(
  data: Buffer,
  extra: Partial<ProviderImage> = {},
): Promise<ProviderImage> {
  const meta = await sharp(data).metadata();
  const format = meta.format === 'png' || meta.format === 'webp' ? meta.format : 'jpeg';
  return {
    data,
    format,
    width: meta.width ?? 0,
    height: meta.height ?? 0,
    sha256: sha256(data),
    ...extra,
  };
}

/** One receipt's fields, for simulators that answer what the pattern version asks for. */
export const RECEIPT_FIELDS: Record<string, unknown> = {
  merchant: 'Blue Bottle',
  date: '2024-03-22',
  total: 8.99,
};

/** A simulator `answer` giving the fields the request's schema asks for, from `values`: the output shows which pattern ran. */
export function answerSchemaFields(values: Record<string, unknown> = RECEIPT_FIELDS) {
  return (simCall: { schema?: Record<string, unknown> | null }) =>
    Object.fromEntries(
      Object.keys((simCall.schema?.properties as object | undefined) ?? {}).map((field) => [
        field,
        values[field],
      ]),
    );
}

/** An answer conforming to samples/patterns/invoice.json (every field present, as it requires). */
export const SAMPLE_INVOICE_ANSWER = {
  vendor_name: 'Acme',
  invoice_number: 'INV-1',
  invoice_date: '2024-05-02',
  due_date: null,
  currency: 'USD',
  subtotal: 10,
  tax: 2.5,
  total: 12.5,
  line_items: [],
} as const;
