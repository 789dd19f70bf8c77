/**
 * Synthetic document images with ground truth: receipts and invoices rendered from SVG
 * text (DejaVu fonts, librsvg via sharp), plus the variants a real intake sees (12 MP
 * phone photos, EXIF-rotated scans, PNGs with alpha, exact and near duplicates) and
 * non-document images for triage. Everything derives from one seed: the same seed gives
 * byte-identical files on the same sharp/libvips build and fonts.
 *
 *   npx tsx samples/scripts/generate.ts                        # the committed set in samples/
 *   npx tsx samples/scripts/generate.ts --out /tmp/w --count 1000 --dup 0.3 --near 0.1 --irrelevant 0.4
 *
 * Output: `<out>/images/<kind>-<nnn>[-variant].<ext>` and `<out>/truth.jsonl`, one record
 * per image, in plan order. Images are written one by one (a bounded window), never all
 * held in memory.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { mapWindow } from '../../src/flow/window.js';
import { Rng } from '../../src/simulator/random.js';
import { photoLikeJpeg, seededBytes } from '../../test/support/images.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

// ---------------------------------------------------------------------------------------------
// Randomness

// Every choice in this file goes through one seeded Rng (mulberry32), shared with the simulator.
export { Rng };

/** A 32-bit seed mixed from several numbers (FNV-1a + murmur finaliser). */
export function deriveSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x01000193);
    h ^= h >>> 13;
    h = Math.imul(h, 0x5bd1e995);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Money and dates

export type Currency = 'USD' | 'EUR' | 'GBP';
export type Category = 'meals' | 'travel' | 'office_supplies' | 'fuel' | 'lodging' | 'other';
export type DateFormat = 'iso' | 'dmy' | 'mdy' | 'mon-d-y' | 'd-month-y';

export interface MoneyStyle {
  prefix: string;
  suffix: string;
  /** true: 1.234,56; false: 1,234.56 */
  decimalComma: boolean;
}

const MONEY_STYLES: Record<Currency, readonly MoneyStyle[]> = {
  USD: [{ prefix: '$', suffix: '', decimalComma: false }],
  EUR: [
    { prefix: '', suffix: ' €', decimalComma: true },
    { prefix: '€ ', suffix: '', decimalComma: true },
    { prefix: '€', suffix: '', decimalComma: false },
  ],
  GBP: [
    { prefix: '£', suffix: '', decimalComma: false },
    { prefix: '£ ', suffix: '', decimalComma: false },
  ],
};

/** Dates as printed; the ground truth is always ISO. MM/DD only with USD, DD/MM only otherwise. */
const DATE_FORMATS: Record<Currency, readonly DateFormat[]> = {
  USD: ['iso', 'mdy', 'mon-d-y', 'd-month-y'],
  EUR: ['iso', 'dmy', 'mon-d-y', 'd-month-y'],
  GBP: ['iso', 'dmy', 'mon-d-y', 'd-month-y'],
};

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

/** `123456` cents → `1,234.56` or `1.234,56` (no currency sign). */
export function formatAmount(cents: number, decimalComma: boolean): string {
  const whole = Math.floor(cents / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, decimalComma ? '.' : ',');
  const fraction = (cents % 100).toString().padStart(2, '0');
  return `${whole}${decimalComma ? ',' : '.'}${fraction}`;
}

export function formatMoney(cents: number, style: MoneyStyle, withSign = true): string {
  const amount = formatAmount(cents, style.decimalComma);
  return withSign ? `${style.prefix}${amount}${style.suffix}` : amount;
}

export function formatDate(iso: string, format: DateFormat): string {
  const [y, m, d] = iso.split('-') as [string, string, string];
  const month = MONTHS[Number(m) - 1]!;
  switch (format) {
    case 'iso':
      return iso;
    case 'dmy':
      return `${d}/${m}/${y}`;
    case 'mdy':
      return `${m}/${d}/${y}`;
    case 'mon-d-y':
      return `${month.slice(0, 3)} ${Number(d)}, ${y}`;
    case 'd-month-y':
      return `${Number(d)} ${month} ${y}`;
  }
}

function isoDate(epochDays: number): string {
  return new Date(epochDays * 86_400_000).toISOString().slice(0, 10);
}

function randomEpochDay(rng: Rng): number {
  const start = Date.UTC(2023, 0, 1) / 86_400_000;
  return start + rng.int(0, 3 * 365 - 1);
}

const toNumber = (cents: number): number => cents / 100;

// ---------------------------------------------------------------------------------------------
// Fonts and a tiny SVG page builder

export interface FontFace {
  family: string;
  mono: boolean;
  condensed: boolean;
  serif: boolean;
}

const FACES = {
  sans: { family: 'DejaVu Sans', mono: false, condensed: false, serif: false },
  mono: { family: 'DejaVu Sans Mono', mono: true, condensed: false, serif: false },
  serif: { family: 'DejaVu Serif', mono: false, condensed: false, serif: true },
  sansCondensed: { family: 'DejaVu Sans Condensed', mono: false, condensed: true, serif: false },
  serifCondensed: { family: 'DejaVu Serif Condensed', mono: false, condensed: true, serif: true },
} as const satisfies Record<string, FontFace>;

const LIGHT: FontFace = { family: 'DejaVu Sans Light', mono: false, condensed: false, serif: false };

/** A conservative (slightly wide) estimate of a rendered string's width, to keep columns apart. */
export function estimateWidth(text: string, size: number, face: FontFace, bold = false): number {
  if (face.mono) return text.length * 0.602 * size * (bold ? 1.0 : 1);
  let em = 0;
  for (const ch of text) {
    if (ch === ' ') em += 0.32;
    else if (/[.,:;'|!il1-]/.test(ch)) em += 0.36;
    else if (/[A-Z]/.test(ch)) em += ch === 'W' || ch === 'M' ? 0.95 : 0.72;
    else if (/[a-z]/.test(ch)) em += ch === 'm' || ch === 'w' ? 0.92 : 0.58;
    else if (/[0-9]/.test(ch)) em += 0.64;
    else em += 0.8;
  }
  return em * size * (face.condensed ? 0.9 : 1) * (face.serif ? 1.03 : 1) * (bold ? 1.1 : 1);
}

/** The desired size, shrunk so that `text` fits in `maxWidth`. */
function fitSize(text: string, size: number, maxWidth: number, face: FontFace, bold = false): number {
  const width = estimateWidth(text, size, face, bold);
  return width <= maxWidth ? size : Math.floor((size * maxWidth) / width);
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

interface TextStyle {
  size: number;
  bold?: boolean;
  italic?: boolean;
  anchor?: 'start' | 'middle' | 'end';
  face?: FontFace;
  fill?: string;
}

class Page {
  readonly parts: string[] = [];

  constructor(
    readonly width: number,
    readonly face: FontFace,
  ) {}

  text(x: number, y: number, text: string, style: TextStyle): void {
    const face = style.face ?? this.face;
    const attrs = [
      `x="${round1(x)}"`,
      `y="${round1(y)}"`,
      `font-family="${face.family}"`,
      `font-size="${round1(style.size)}"`,
      style.bold ? 'font-weight="bold"' : '',
      style.italic ? `font-style="${face.serif ? 'italic' : 'oblique'}"` : '',
      style.anchor && style.anchor !== 'start' ? `text-anchor="${style.anchor}"` : '',
      `fill="${style.fill ?? '#111111'}"`,
    ].filter(Boolean);
    this.parts.push(`<text ${attrs.join(' ')}>${escapeXml(text)}</text>`);
  }

  line(x1: number, y1: number, x2: number, y2: number, stroke = '#333333', width = 2, dash?: string): void {
    const dashAttr = dash ? ` stroke-dasharray="${dash}"` : '';
    this.parts.push(
      `<line x1="${round1(x1)}" y1="${round1(y1)}" x2="${round1(x2)}" y2="${round1(y2)}" stroke="${stroke}" stroke-width="${width}"${dashAttr}/>`,
    );
  }

  rect(x: number, y: number, w: number, h: number, fill: string): void {
    this.parts.push(
      `<rect x="${round1(x)}" y="${round1(y)}" width="${round1(w)}" height="${round1(h)}" fill="${fill}"/>`,
    );
  }
}

const round1 = (n: number): string => (Math.round(n * 10) / 10).toString();

/** A laid-out document: its size in page pixels and its SVG elements. */
export interface Layout {
  width: number;
  height: number;
  body: string;
}

export interface RenderOptions {
  /** Pixels per page pixel: text stays vector-sharp at any scale. Default 1. */
  scale?: number;
  /** Paper colour. Default white. */
  paper?: string;
}

function wrapSvg(layout: Layout, options: RenderOptions = {}): string {
  const scale = options.scale ?? 1;
  const w = Math.round(layout.width * scale);
  const h = Math.round(layout.height * scale);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${layout.width} ${layout.height}">`,
    `<rect x="0" y="0" width="${layout.width}" height="${layout.height}" fill="${options.paper ?? '#ffffff'}"/>`,
    layout.body,
    '</svg>',
  ].join('\n');
}

let svgQueue: Promise<unknown> = Promise.resolve();

/**
 * Runs SVG rasterisations one at a time. SVG text rendering (librsvg → pango/cairo) in
 * this sharp build is not safe to run concurrently: parallel renders intermittently fail
 * ("SVG rendering failed") or corrupt the heap and crash the process. Everything after
 * the rasterisation (encoding, compositing) still runs in parallel.
 */
export function serialiseSvg<T>(task: () => Promise<T>): Promise<T> {
  const run = svgQueue.then(task, task);
  svgQueue = run.catch(() => {});
  return run;
}

/** The layout as an 8-bit RGB PNG. */
async function rasterize(layout: Layout, options: RenderOptions = {}): Promise<Buffer> {
  const svg = Buffer.from(wrapSvg(layout, options));
  const { data, info } = await serialiseSvg(() =>
    sharp(svg).removeAlpha().raw().toBuffer({ resolveWithObject: true }),
  );
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .png()
    .toBuffer();
}

// ---------------------------------------------------------------------------------------------
// Shared catalogues

interface Merchant {
  name: string;
  category: Category;
}

const MERCHANTS: readonly Merchant[] = [
  { name: 'Blue Door Bistro', category: 'meals' },
  { name: 'Golden Wok Kitchen', category: 'meals' },
  { name: 'Cafe Aurora', category: 'meals' },
  { name: 'Harbor Grill & Bar', category: 'meals' },
  { name: 'The Daily Bagel', category: 'meals' },
  { name: "Luigi's Trattoria", category: 'meals' },
  { name: 'Metro Cab Company', category: 'travel' },
  { name: 'Skyline Airport Shuttle', category: 'travel' },
  { name: 'City Rail Tickets', category: 'travel' },
  { name: 'Parkway Parking', category: 'travel' },
  { name: 'Paper Trail Office Supply', category: 'office_supplies' },
  { name: 'Inkwell Stationers', category: 'office_supplies' },
  { name: 'Desk & Ink', category: 'office_supplies' },
  { name: 'Sunrise Fuel Stop', category: 'fuel' },
  { name: 'Northway Gas', category: 'fuel' },
  { name: 'Prairie Petroleum', category: 'fuel' },
  { name: 'Grand Harbor Hotel', category: 'lodging' },
  { name: 'Maple Inn & Suites', category: 'lodging' },
  { name: 'Riverside Lodge', category: 'lodging' },
  { name: 'Pixel Electronics', category: 'other' },
  { name: 'Corner Pharmacy', category: 'other' },
  { name: 'Hardware Haven', category: 'other' },
];

const CATEGORY_LABELS: Record<Category, string> = {
  meals: 'Meals',
  travel: 'Travel',
  office_supplies: 'Office Supplies',
  fuel: 'Fuel',
  lodging: 'Lodging',
  other: 'Other',
};

/** [description, min cents, max cents, max quantity] */
type CatalogueItem = readonly [string, number, number, number];

const RECEIPT_ITEMS: Record<Category, readonly CatalogueItem[]> = {
  meals: [
    ['Latte', 350, 560, 3],
    ['Cappuccino', 320, 520, 3],
    ['Espresso', 220, 350, 2],
    ['Club Sandwich', 950, 1450, 2],
    ['Caesar Salad', 850, 1350, 2],
    ['Margherita Pizza', 1100, 1650, 2],
    ['Cheeseburger', 1050, 1550, 2],
    ['French Fries', 350, 600, 2],
    ['Iced Tea', 250, 450, 3],
    ['Sparkling Water', 200, 400, 3],
    ['Soup of the Day', 550, 850, 2],
    ['Grilled Salmon', 1850, 2850, 1],
    ['Pasta Carbonara', 1250, 1850, 2],
    ['Chocolate Cake', 550, 850, 2],
  ],
  travel: [
    ['Taxi fare', 1200, 6500, 1],
    ['Airport transfer', 2500, 7500, 1],
    ['Train ticket', 1500, 12000, 2],
    ['Parking 3 hours', 900, 2400, 1],
    ['Toll fee', 250, 1200, 1],
    ['Booking fee', 150, 500, 1],
  ],
  office_supplies: [
    ['Printer paper A4 500 sheets', 550, 1250, 5],
    ['Ballpoint pens 12 pack', 350, 900, 3],
    ['Sticky notes', 250, 650, 4],
    ['Stapler', 900, 1900, 1],
    ['Toner cartridge', 4500, 9500, 2],
    ['File folders 25 pack', 650, 1400, 2],
    ['USB flash drive 64GB', 1200, 2200, 2],
    ['Whiteboard markers', 500, 1100, 2],
    ['Envelopes 50 pack', 450, 950, 2],
  ],
  fuel: [
    ['Car wash', 800, 1500, 1],
    ['Windshield fluid', 450, 900, 1],
    ['Coffee to go', 180, 350, 2],
    ['Snack bar', 150, 300, 3],
  ],
  lodging: [
    ['City tax', 250, 800, 3],
    ['Breakfast buffet', 1400, 2600, 2],
    ['Minibar', 450, 2200, 1],
    ['Parking', 1500, 3500, 3],
    ['Laundry service', 900, 2500, 1],
    ['Room service', 1800, 4500, 1],
  ],
  other: [
    ['Phone charger', 1200, 2900, 1],
    ['HDMI cable', 800, 1900, 2],
    ['Batteries AA 8 pack', 600, 1200, 2],
    ['Umbrella', 900, 2400, 1],
    ['First aid kit', 1200, 2600, 1],
    ['Notebook', 300, 900, 3],
    ['Light bulbs 4 pack', 700, 1500, 2],
  ],
};

const CITIES: Record<Currency, readonly string[]> = {
  USD: ['Springfield, IL 62701', 'Portland, OR 97205', 'Austin, TX 78701', 'Denver, CO 80202'],
  EUR: ['10115 Berlin', '75002 Paris', '1012 AB Amsterdam', '20121 Milano', '28013 Madrid'],
  GBP: ['London EC1A 1BB', 'Manchester M1 1AE', 'Leeds LS1 4DY', 'Bristol BS1 4DJ'],
};

const STREETS = ['Main', 'Market', 'Oak', 'Station', 'River', 'High', 'Church', 'Mill', 'Park', 'King'];
const STREET_TYPES = ['Street', 'Road', 'Avenue', 'Lane'];

function streetLine(rng: Rng): string {
  return `${rng.int(1, 420)} ${rng.pick(STREETS)} ${rng.pick(STREET_TYPES)}`;
}

const EU_DIALLING: Record<string, string> = {
  Berlin: '+49 30',
  Paris: '+33 1',
  Amsterdam: '+31 20',
  Milano: '+39 02',
  Madrid: '+34 91',
};

function phoneLine(rng: Rng, currency: Currency, city: string): string {
  const d = (n: number) => Array.from({ length: n }, () => rng.int(0, 9)).join('');
  if (currency === 'USD') return `(${rng.int(201, 989)}) ${d(3)}-${d(4)}`;
  if (currency === 'GBP')
    return `+44 ${city.startsWith('London') ? '20' : rng.int(113, 161)} ${d(4)} ${d(4)}`;
  return `${EU_DIALLING[city.split(' ').at(-1)!] ?? '+49 30'} ${d(4)} ${d(4)}`;
}

function taxRate(rng: Rng, currency: Currency): number {
  if (currency === 'USD') return rng.pick([0.0625, 0.07, 0.0725, 0.08, 0.0825, 0.0875, 0.095]);
  if (currency === 'GBP') return 0.2;
  return rng.pick([0.19, 0.2, 0.21, 0.1]);
}

function percent(rate: number): string {
  return `${Number((rate * 100).toFixed(2))}%`;
}

// ---------------------------------------------------------------------------------------------
// Receipts

export interface ReceiptItem {
  description: string;
  quantity: number;
  unitCents: number;
}

export interface ReceiptTruth {
  merchant_name: string;
  date: string;
  total_amount: number;
  category: Category;
}

export interface ReceiptSpec {
  kind: 'receipt';
  seed: number;
  merchant: string;
  category: Category;
  address: [string, string];
  phone: string;
  receiptNumber: string;
  date: string;
  time: string;
  dateFormat: DateFormat;
  dateLabel: string;
  currency: Currency;
  money: MoneyStyle;
  items: ReceiptItem[];
  itemStyle: 'qty-prefix' | 'qty-line';
  subtotalLabel: string;
  taxLabel: string;
  subtotalCents: number;
  taxCents: number;
  totalCents: number;
  totalLabel: 'TOTAL' | 'Total' | 'Amount Due';
  totalLayout: 'right' | 'left' | 'stacked';
  categoryLabel: string;
  payment: string;
  footer: string;
  barcode: boolean;
  face: FontFace;
  lightSecondary: boolean;
  headerAlign: 'center' | 'left';
  fontSize: number;
  /** Width of the receipt paper strip. */
  width: number;
  /** A flatbed scan (the strip on a white page 1200–1700 px wide) or a scan cropped to the strip. */
  scan: 'page' | 'cropped';
  pageWidth: number;
  stripAt: { x: number; y: number };
}

export function makeReceiptSpec(seed: number): ReceiptSpec {
  const rng = new Rng(deriveSeed(seed, 0x5ec1));
  const merchant = rng.pick(MERCHANTS);
  const currency = rng.weighted<Currency>([
    ['USD', 5],
    ['EUR', 3],
    ['GBP', 2],
  ]);
  const items: ReceiptItem[] = [];
  if (merchant.category === 'fuel') {
    const fuel = rng.pick(['Unleaded 95', 'Regular Unleaded', 'Diesel', 'Premium Unleaded']);
    items.push({
      description: `${fuel} Pump ${rng.int(1, 12)}`,
      quantity: 1,
      unitCents: rng.int(2500, 9500),
    });
  }
  if (merchant.category === 'lodging') {
    items.push({
      description: 'Room charge per night',
      quantity: rng.int(1, 3),
      unitCents: rng.int(89, 240) * 100,
    });
  }
  const catalogue = rng.shuffle([...RECEIPT_ITEMS[merchant.category]]);
  const extra = rng.int(items.length > 0 ? 0 : 1, merchant.category === 'meals' ? 6 : 4);
  for (const [description, min, max, maxQty] of catalogue.slice(0, extra)) {
    const quantity = rng.chance(0.7) ? 1 : rng.int(1, maxQty);
    items.push({ description, quantity, unitCents: Math.round(rng.int(min, max) / 5) * 5 });
  }
  const subtotalCents = items.reduce((sum, item) => sum + item.quantity * item.unitCents, 0);
  const rate = taxRate(rng, currency);
  const taxCents = Math.round(subtotalCents * rate);
  const fontSize = rng.weighted<number>([
    [rng.int(22, 27), 1],
    [rng.int(28, 40), 3],
  ]);
  const face = rng.weighted<FontFace>([
    [FACES.mono, 4],
    [FACES.sans, 2],
    [FACES.sansCondensed, 2],
    [FACES.serif, 1],
    [FACES.serifCondensed, 1],
  ]);
  const cardTail = rng.int(1000, 9999);
  const day = randomEpochDay(rng);
  const city = rng.pick(CITIES[currency]);
  // 36–46 characters per line, like a till roll; the margin is 1.2 em on each side.
  const width = Math.round(fontSize * (0.602 * rng.int(36, 46) + 2.4));
  const pageWidth = Math.min(1700, Math.max(1200, width + rng.int(240, 560)));
  return {
    kind: 'receipt',
    seed,
    merchant: merchant.name,
    category: merchant.category,
    address: [streetLine(rng), city],
    phone: phoneLine(rng, currency, city),
    receiptNumber: String(rng.int(1000, 999999)).padStart(6, '0'),
    date: isoDate(day),
    time: `${String(rng.int(7, 22)).padStart(2, '0')}:${String(rng.int(0, 59)).padStart(2, '0')}`,
    dateFormat: rng.pick(DATE_FORMATS[currency]),
    dateLabel: rng.pick(['Date: ', 'Date/Time: ', '']),
    currency,
    money: rng.pick(MONEY_STYLES[currency]),
    items,
    itemStyle: rng.pick(['qty-prefix', 'qty-line'] as const),
    subtotalLabel: rng.pick(['Subtotal', 'Sub-total', 'SUBTOTAL']),
    taxLabel:
      currency === 'USD'
        ? rng.pick([`Sales Tax ${percent(rate)}`, `Tax ${percent(rate)}`])
        : `VAT ${percent(rate)}`,
    subtotalCents,
    taxCents,
    totalCents: subtotalCents + taxCents,
    totalLabel: rng.pick(['TOTAL', 'Total', 'Amount Due'] as const),
    totalLayout: rng.pick(['right', 'right', 'left', 'stacked'] as const),
    categoryLabel: rng.pick(['Category', 'Category', 'Expense category']),
    payment: rng.pick([
      `VISA **** ${cardTail}`,
      `Mastercard **** ${cardTail}`,
      `Debit card ending ${cardTail}`,
    ]),
    footer: rng.pick([
      'Thank you for your visit!',
      'Thank you! Please come again.',
      'Keep this receipt for returns.',
    ]),
    barcode: rng.chance(0.5),
    face,
    lightSecondary: !face.mono && rng.chance(0.4),
    headerAlign: rng.chance(0.65) ? 'center' : 'left',
    fontSize,
    width,
    scan: rng.chance(0.6) ? 'page' : 'cropped',
    pageWidth,
    stripAt: { x: Math.round(rng.range(60, pageWidth - width - 60)), y: rng.int(60, 160) },
  };
}

export function receiptTruth(spec: ReceiptSpec): ReceiptTruth {
  return {
    merchant_name: spec.merchant,
    date: spec.date,
    total_amount: toNumber(spec.totalCents),
    category: spec.category,
  };
}

export function layoutReceipt(spec: ReceiptSpec): Layout {
  const W = spec.width;
  const fs = spec.fontSize;
  const m = Math.round(fs * 1.2);
  const right = W - m;
  const textW = W - 2 * m;
  const lh = Math.round(fs * 1.5);
  const face = spec.face;
  const page = new Page(W, face);
  const secondary = spec.lightSecondary ? LIGHT : face;
  const money = (cents: number) => formatMoney(cents, spec.money);
  const center = spec.headerAlign === 'center';
  const hx = center ? W / 2 : m;
  const anchor = center ? 'middle' : 'start';
  const rule = (yy: number) => page.line(m, yy, right, yy, '#444444', 2, face.mono ? '10 8' : undefined);
  /** A label at the left margin and a right-aligned value, shrunk together if they would collide. */
  const row = (yy: number, label: string, value: string, style: Omit<TextStyle, 'anchor'>) => {
    const needed =
      estimateWidth(label, style.size, style.face ?? face, style.bold) +
      estimateWidth(value, style.size, style.face ?? face, style.bold) +
      fs;
    const size = needed > textW ? Math.floor((style.size * textW) / needed) : style.size;
    page.text(m, yy, label, { ...style, size });
    page.text(right, yy, value, { ...style, size, anchor: 'end' });
  };

  let y = m;
  const nameSize = fitSize(spec.merchant, fs * 1.5, textW, face, true);
  y += nameSize;
  page.text(hx, y, spec.merchant, { size: nameSize, bold: true, anchor });
  y += lh * 0.3;
  for (const line of [...spec.address, `Tel. ${spec.phone}`]) {
    y += lh * 0.9;
    page.text(hx, y, line, { size: fs * 0.85, anchor, face: secondary, fill: '#222222' });
  }
  y += lh * 0.7;
  rule(y);

  y += lh * 1.1;
  row(y, `Receipt #${spec.receiptNumber}`, `Reg ${(spec.seed % 7) + 1}`, { size: fs * 0.9 });
  y += lh;
  row(y, `${spec.dateLabel}${formatDate(spec.date, spec.dateFormat)}`, spec.time, { size: fs });
  y += lh;
  page.text(m, y, `${spec.categoryLabel}: ${CATEGORY_LABELS[spec.category]}`, { size: fs });
  y += lh * 0.7;
  rule(y);

  for (const item of spec.items) {
    y += lh * 1.05;
    const amount = money(item.quantity * item.unitCents);
    if (spec.itemStyle === 'qty-prefix' || item.quantity === 1) {
      row(y, `${item.quantity} x ${item.description}`, amount, { size: fs });
    } else {
      row(y, item.description, amount, { size: fs });
      y += lh * 0.9;
      page.text(m + fs * 1.5, y, `${item.quantity} @ ${money(item.unitCents)}`, {
        size: fs * 0.85,
        fill: '#333333',
      });
    }
  }
  y += lh * 0.7;
  rule(y);

  y += lh * 1.1;
  row(y, spec.subtotalLabel, money(spec.subtotalCents), { size: fs });
  y += lh;
  row(y, spec.taxLabel, money(spec.taxCents), { size: fs });
  const totalSize = fs * 1.25;
  const total = money(spec.totalCents);
  if (spec.totalLayout === 'right') {
    y += lh * 1.35;
    row(y, spec.totalLabel, total, { size: totalSize, bold: true });
  } else if (spec.totalLayout === 'left') {
    y += lh * 1.35;
    const text = `${spec.totalLabel}: ${total}`;
    page.text(m, y, text, { size: fitSize(text, totalSize, textW, face, true), bold: true });
  } else {
    y += lh * 1.35;
    page.text(m, y, spec.totalLabel, { size: totalSize, bold: true });
    const big = fitSize(total, fs * 1.7, textW, face, true);
    y += big * 1.3;
    page.text(right, y, total, { size: big, bold: true, anchor: 'end' });
  }
  y += lh * 0.8;
  rule(y);

  y += lh * 1.1;
  row(y, spec.payment, total, { size: fs * 0.9 });
  y += lh;
  page.text(m, y, `Auth code: ${String(deriveSeed(spec.seed, 7) % 1_000_000).padStart(6, '0')}`, {
    size: fs * 0.85,
    face: secondary,
  });
  y += lh * 1.6;
  page.text(W / 2, y, spec.footer, {
    size: fitSize(spec.footer, fs, textW, face),
    anchor: 'middle',
    italic: !face.mono,
  });
  if (spec.barcode) {
    const rng = new Rng(deriveSeed(spec.seed, 0xba2c));
    y += lh;
    const barH = fs * 2.6;
    let x = W / 2 - textW * 0.3;
    const end = W / 2 + textW * 0.3;
    while (x < end) {
      const bar = rng.int(1, 3) * 3;
      page.rect(x, y, bar, barH, '#111111');
      x += bar + rng.int(1, 3) * 3;
    }
    y += barH + fs;
    page.text(W / 2, y, spec.receiptNumber.split('').join(' '), {
      size: fs * 0.7,
      anchor: 'middle',
      face: FACES.mono,
    });
  }
  // Till rolls run on past the last line.
  return { width: W, height: Math.round(Math.max(y + m * 2, W * 1.3)), body: page.parts.join('\n') };
}

/** The receipt as scanned: the strip alone, or on a white A4-proportioned scanner page. */
export function layoutReceiptScan(spec: ReceiptSpec): Layout {
  const strip = layoutReceipt(spec);
  if (spec.scan === 'cropped') return strip;
  const { x, y } = spec.stripAt;
  const width = spec.pageWidth;
  const height = Math.round(Math.max(width * Math.SQRT2, y + strip.height + 80));
  const body = [
    // A faint edge and shadow: a white strip on a white scanner lid.
    `<rect x="${x + 4}" y="${y + 5}" width="${strip.width}" height="${strip.height}" fill="#e6e6e6"/>`,
    `<rect x="${x}" y="${y}" width="${strip.width}" height="${strip.height}" fill="#ffffff" stroke="#c8c8c8" stroke-width="2"/>`,
    `<g transform="translate(${x} ${y})">`,
    strip.body,
    '</g>',
  ].join('\n');
  return { width, height, body };
}

/** The clean scan of a receipt, as PNG. */
export async function renderReceipt(spec: ReceiptSpec, options: RenderOptions = {}): Promise<Buffer> {
  return rasterize(layoutReceiptScan(spec), options);
}

// ---------------------------------------------------------------------------------------------
// Invoices

export interface InvoiceLineTruth {
  description: string;
  quantity: number;
  unit_price: number;
  amount: number;
}

export interface InvoiceTruth {
  vendor_name: string;
  invoice_number: string;
  invoice_date: string;
  due_date: string | null;
  currency: Currency;
  subtotal: number;
  tax: number;
  total: number;
  line_items: InvoiceLineTruth[];
}

export interface InvoiceItem {
  description: string;
  quantity: number;
  unitCents: number;
}

export interface InvoiceSpec {
  kind: 'invoice';
  seed: number;
  vendor: string;
  vendorLines: string[];
  customer: string;
  customerLines: string[];
  title: string;
  invoiceNumber: string;
  numberLabel: string;
  invoiceDate: string;
  dateLabel: string;
  dueDate: string | null;
  dueLabel: string;
  dateFormat: DateFormat;
  currency: Currency;
  money: MoneyStyle;
  currencyNote: string;
  currencyNoteAt: 'meta' | 'totals';
  items: InvoiceItem[];
  tableSigns: boolean;
  subtotalCents: number;
  taxLabel: string;
  taxCents: number;
  totalCents: number;
  totalLabel: string;
  header: 'title-right' | 'title-left' | 'band';
  meta: 'inline-right' | 'stacked' | 'inline-left';
  totalsAlign: 'right' | 'left';
  footer: string[];
  accent: string;
  face: FontFace;
  fontSize: number;
  width: number;
}

const VENDORS = [
  'Northwind Consulting Ltd',
  'Acme Cloud Services',
  'Brightline Design Studio',
  'Keller & Sons GmbH',
  'Summit Legal LLP',
  'Atlas Logistics Inc.',
  'Bluefin Software',
  'Evergreen Facilities',
  'Orbit Marketing Agency',
  'Harbor IT Solutions',
  'Copperleaf Translations',
  'Redwood Print Works',
] as const;

const CUSTOMERS = [
  'Contoso Retail Ltd',
  'Globex Corporation',
  'Initech LLC',
  'Umbrella Foods',
  'Vandelay Industries',
  'Hooli Labs',
  'Wonka Confectionery',
] as const;

const INVOICE_ITEMS: readonly CatalogueItem[] = [
  ['Consulting services (hours)', 8500, 18500, 40],
  ['Website maintenance', 25000, 90000, 3],
  ['Cloud hosting - monthly', 4900, 39900, 12],
  ['Logo design', 45000, 150000, 1],
  ['Software license (annual)', 19900, 129900, 10],
  ['On-site support visit', 15000, 45000, 4],
  ['Printer toner cartridge', 4500, 9800, 10],
  ['Office chair', 12900, 34900, 8],
  ['Data migration', 60000, 250000, 1],
  ['Training workshop', 40000, 120000, 2],
  ['Freight charges', 2500, 18000, 3],
  ['Translation services (pages)', 1800, 4500, 60],
  ['Business cards (500)', 3900, 8900, 5],
  ['Legal review', 30000, 95000, 2],
];

export function makeInvoiceSpec(seed: number): InvoiceSpec {
  const rng = new Rng(deriveSeed(seed, 0x1a40));
  const currency = rng.weighted<Currency>([
    ['USD', 4],
    ['EUR', 3],
    ['GBP', 3],
  ]);
  const items = rng
    .shuffle([...INVOICE_ITEMS])
    .slice(0, rng.int(1, 5))
    .map(([description, min, max, maxQty]) => ({
      description,
      quantity: rng.chance(0.4) ? 1 : rng.int(1, maxQty),
      unitCents: Math.round(rng.int(min, max) / 50) * 50,
    }));
  const subtotalCents = items.reduce((sum, item) => sum + item.quantity * item.unitCents, 0);
  const rate = taxRate(rng, currency);
  const taxCents = Math.round(subtotalCents * rate);
  const day = randomEpochDay(rng);
  const year = isoDate(day).slice(0, 4);
  const invoiceNumber = rng.pick([
    `INV-${rng.int(10000, 99999)}`,
    `INV-${year}-${String(rng.int(1, 999)).padStart(4, '0')}`,
    `${rng.int(100000, 999999)}`,
    `F${year}-${String(rng.int(1, 999)).padStart(3, '0')}`,
  ]);
  const fontSize = rng.int(22, 30);
  const vendor = rng.pick(VENDORS);
  const slug = vendor
    .toLowerCase()
    .replace(/[^a-z]+/g, '')
    .slice(0, 14);
  const taxLabel =
    currency === 'USD'
      ? rng.pick([`Tax (${percent(rate)})`, `Sales Tax ${percent(rate)}`, `GST ${percent(rate)}`])
      : rng.pick([`VAT ${percent(rate)}`, `VAT (${percent(rate)})`, 'VAT']);
  const dueDays = rng.pick([14, 30, 30, 45, 60]);
  const printedDue = rng.chance(0.8);
  return {
    kind: 'invoice',
    seed,
    vendor,
    vendorLines: [streetLine(rng), rng.pick(CITIES[currency]), `billing@${slug}.example`],
    customer: rng.pick(CUSTOMERS),
    customerLines: [streetLine(rng), rng.pick(CITIES[currency])],
    title: rng.pick(['INVOICE', 'Invoice', 'TAX INVOICE']),
    invoiceNumber,
    numberLabel: rng.pick(['Invoice Number', 'Invoice No.', 'Invoice #']),
    invoiceDate: isoDate(day),
    dateLabel: rng.pick(['Date', 'Date Issued', 'Invoice Date', 'Issue Date']),
    dueDate: printedDue ? isoDate(day + dueDays) : null,
    dueLabel: rng.pick(['Due Date', 'Payment Due']),
    dateFormat: rng.pick(DATE_FORMATS[currency]),
    currency,
    money: rng.pick(MONEY_STYLES[currency]),
    currencyNote: rng.pick([`Currency: ${currency}`, `Amounts in ${currency}`, `All amounts in ${currency}`]),
    currencyNoteAt: rng.chance(0.5) ? 'meta' : 'totals',
    items,
    tableSigns: rng.chance(0.5),
    subtotalCents,
    taxLabel,
    taxCents,
    totalCents: subtotalCents + taxCents,
    totalLabel: rng.pick(['Total', 'TOTAL', 'Amount Due', 'Balance Due', 'Total Due']),
    header: rng.pick(['title-right', 'title-left', 'band'] as const),
    meta: rng.pick(['inline-right', 'stacked', 'inline-left'] as const),
    totalsAlign: rng.chance(0.75) ? 'right' : 'left',
    footer: [
      printedDue ? `Payment terms: Net ${dueDays}` : 'Payment terms: due on receipt',
      currency === 'GBP'
        ? `Bank transfer: sort code 20-${rng.int(10, 99)}-${rng.int(10, 99)}, account ${rng.int(10000000, 99999999)}`
        : currency === 'EUR'
          ? `IBAN DE${rng.int(10, 99)} 3704 0044 0532 ${rng.int(1000, 9999)} 00`
          : `ACH routing ${rng.int(100000000, 999999999)}, account ${rng.int(1000000, 9999999)}`,
      'Thank you for your business.',
    ],
    accent: rng.pick(['#1f3a5f', '#2e4d3a', '#5a2a2a', '#222222', '#3b3561']),
    face: rng.weighted<FontFace>([
      [FACES.sans, 4],
      [FACES.serif, 2],
      [FACES.sansCondensed, 2],
      [FACES.serifCondensed, 1],
      [FACES.mono, 1],
    ]),
    fontSize,
    width: Math.min(1700, Math.max(1400, Math.round(fontSize * rng.range(54, 62)))),
  };
}

export function invoiceTruth(spec: InvoiceSpec): InvoiceTruth {
  return {
    vendor_name: spec.vendor,
    invoice_number: spec.invoiceNumber,
    invoice_date: spec.invoiceDate,
    due_date: spec.dueDate,
    currency: spec.currency,
    subtotal: toNumber(spec.subtotalCents),
    tax: toNumber(spec.taxCents),
    total: toNumber(spec.totalCents),
    line_items: spec.items.map((item) => ({
      description: item.description,
      quantity: item.quantity,
      unit_price: toNumber(item.unitCents),
      amount: toNumber(item.quantity * item.unitCents),
    })),
  };
}

export function layoutInvoice(spec: InvoiceSpec): Layout {
  const W = spec.width;
  const fs = spec.fontSize;
  const m = Math.round(W * 0.06);
  const right = W - m;
  const textW = W - 2 * m;
  const lh = Math.round(fs * 1.5);
  const face = spec.face;
  const page = new Page(W, face);
  const money = (cents: number, sign = true) => formatMoney(cents, spec.money, sign);
  const grey = '#444444';
  const colon = (label: string) => (/[.#]$/.test(label) ? label : `${label}:`);

  // Header
  let y = m;
  const titleSize = fs * 2;
  const nameSize = fitSize(spec.vendor, fs * 1.5, textW * 0.55, face, true);
  if (spec.header === 'band') {
    page.rect(0, 0, W, m + nameSize + lh * 3.4, '#eef1f5');
  }
  if (spec.header === 'title-left') {
    y += titleSize;
    page.text(m, y, spec.title, { size: titleSize, bold: true, fill: spec.accent });
    let vy = m + nameSize;
    page.text(right, vy, spec.vendor, { size: nameSize, bold: true, anchor: 'end' });
    for (const line of spec.vendorLines) {
      vy += lh * 0.9;
      page.text(right, vy, line, { size: fs * 0.85, anchor: 'end', fill: grey });
    }
    y = Math.max(y, vy);
  } else {
    y += nameSize;
    page.text(m, y, spec.vendor, {
      size: nameSize,
      bold: true,
      fill: spec.header === 'band' ? spec.accent : '#111111',
    });
    page.text(right, m + titleSize, spec.title, {
      size: titleSize,
      bold: true,
      fill: spec.accent,
      anchor: 'end',
    });
    for (const line of spec.vendorLines) {
      y += lh * 0.9;
      page.text(m, y, line, { size: fs * 0.85, fill: grey });
    }
  }
  y += lh * 1.2;
  if (spec.header !== 'band') page.line(m, y - lh * 0.5, right, y - lh * 0.5, spec.accent, 3);
  y += lh * 0.4;

  // Invoice metadata and the customer
  const meta: [string, string][] = [
    [spec.numberLabel, spec.invoiceNumber],
    [spec.dateLabel, formatDate(spec.invoiceDate, spec.dateFormat)],
  ];
  if (spec.dueDate) meta.push([spec.dueLabel, formatDate(spec.dueDate, spec.dateFormat)]);
  if (spec.currencyNoteAt === 'meta') meta.push(['Currency', spec.currency]);
  const billTo = (x: number, top: number): number => {
    let by = top + fs;
    page.text(x, by, 'Bill To:', { size: fs * 0.9, bold: true, fill: spec.accent });
    by += lh;
    page.text(x, by, spec.customer, { size: fs, bold: true });
    for (const line of spec.customerLines) {
      by += lh * 0.95;
      page.text(x, by, line, { size: fs * 0.9, fill: grey });
    }
    return by;
  };
  if (spec.meta === 'stacked') {
    const colW = textW / meta.length;
    meta.forEach(([label, value], i) => {
      const x = m + i * colW;
      page.text(x, y + fs * 0.9, label, { size: fs * 0.8, bold: true, fill: grey });
      page.text(x, y + fs * 0.9 + lh * 1.05, value, { size: fitSize(value, fs * 1.05, colW - fs, face) });
    });
    y += fs * 0.9 + lh * 1.05 + lh * 0.8;
    y = billTo(m, y) + lh;
  } else {
    const half = W / 2 + textW * 0.04;
    const metaX = spec.meta === 'inline-right' ? half : m;
    const metaRight = spec.meta === 'inline-right' ? right : W / 2 - textW * 0.02;
    const billY = billTo(spec.meta === 'inline-right' ? m : half, y);
    let my = y + fs;
    for (const [label, value] of meta) {
      const text = colon(label);
      const avail = metaRight - metaX;
      const size = Math.min(
        fs,
        Math.floor(
          (fs * avail) / (estimateWidth(text, fs, face, true) + estimateWidth(value, fs, face) + fs * 0.8),
        ),
      );
      page.text(metaX, my, text, { size, bold: true, fill: grey });
      page.text(metaRight, my, value, { size, anchor: 'end' });
      my += lh;
    }
    y = Math.max(billY, my - lh) + lh * 1.2;
  }

  // Line items
  const amounts = spec.items.flatMap((item) => [
    money(item.unitCents, spec.tableSigns),
    money(item.quantity * item.unitCents, spec.tableSigns),
  ]);
  const numberCol =
    Math.max(estimateWidth('Unit Price', fs, face, true), ...amounts.map((a) => estimateWidth(a, fs, face))) +
    fs * 1.2;
  const pad = fs * 0.6;
  const xAmount = right - pad;
  const xUnit = xAmount - numberCol;
  const xQty = xUnit - numberCol;
  const descWidth = xQty - estimateWidth('Qty', fs, face, true) - fs - (m + pad);
  const rowH = lh * 1.25;
  page.rect(m, y, textW, rowH, spec.header === 'band' ? '#eef1f5' : '#e9e9e9');
  const headY = y + rowH / 2 + fs * 0.36;
  page.text(m + pad, headY, 'Description', { size: fs, bold: true });
  page.text(xQty, headY, 'Qty', { size: fs, bold: true, anchor: 'end' });
  page.text(xUnit, headY, 'Unit Price', { size: fs, bold: true, anchor: 'end' });
  page.text(xAmount, headY, 'Amount', { size: fs, bold: true, anchor: 'end' });
  y += rowH;
  for (const item of spec.items) {
    const rowY = y + rowH / 2 + fs * 0.36;
    page.text(m + pad, rowY, item.description, { size: fitSize(item.description, fs, descWidth, face) });
    page.text(xQty, rowY, String(item.quantity), { size: fs, anchor: 'end' });
    page.text(xUnit, rowY, money(item.unitCents, spec.tableSigns), { size: fs, anchor: 'end' });
    page.text(xAmount, rowY, money(item.quantity * item.unitCents, spec.tableSigns), {
      size: fs,
      anchor: 'end',
    });
    y += rowH;
    page.line(m, y, right, y, '#cccccc', 2);
  }

  // Totals
  y += lh * 0.6;
  const totals: [string, string, boolean][] = [
    ['Subtotal', money(spec.subtotalCents), false],
    [spec.taxLabel, money(spec.taxCents), false],
    [spec.totalLabel, money(spec.totalCents), true],
  ];
  const blockW = Math.max(textW * 0.42, numberCol * 2.4);
  const labelX = spec.totalsAlign === 'right' ? right - blockW : m;
  const valueX = spec.totalsAlign === 'right' ? xAmount : m + blockW;
  for (const [label, value, strong] of totals) {
    y += strong ? lh * 1.35 : lh;
    if (strong)
      page.line(
        labelX,
        y - lh * 0.95,
        valueX + (spec.totalsAlign === 'right' ? pad : 0),
        y - lh * 0.95,
        grey,
        2,
      );
    const size = strong ? fs * 1.2 : fs;
    page.text(labelX, y, colon(label), { size, bold: strong, fill: strong ? spec.accent : '#111111' });
    page.text(valueX, y, value, { size, bold: strong, anchor: 'end' });
  }
  if (spec.currencyNoteAt === 'totals') {
    y += lh * 1.2;
    page.text(spec.totalsAlign === 'right' ? valueX : labelX, y, spec.currencyNote, {
      size: fs * 0.85,
      italic: true,
      fill: grey,
      anchor: spec.totalsAlign === 'right' ? 'end' : 'start',
    });
  }

  // Footer at the bottom of an A4-ish page
  const height = Math.round(Math.max(y + lh * 6 + m, W * 1.3));
  let fy = height - m - (spec.footer.length - 1) * lh;
  page.line(m, fy - lh * 1.1, right, fy - lh * 1.1, '#bbbbbb', 2);
  for (const line of spec.footer) {
    page.text(m, fy, line, { size: fitSize(line, fs * 0.85, textW, face), fill: grey });
    fy += lh;
  }
  return { width: W, height, body: page.parts.join('\n') };
}

export async function renderInvoice(spec: InvoiceSpec, options: RenderOptions = {}): Promise<Buffer> {
  return rasterize(layoutInvoice(spec), options);
}

// ---------------------------------------------------------------------------------------------
// Documents and variants

export type DocumentSpec = ReceiptSpec | InvoiceSpec;

/** The paper itself: the receipt strip or the invoice page (for photos and transparent PNGs). */
export function layoutPaper(spec: DocumentSpec): Layout {
  return spec.kind === 'receipt' ? layoutReceipt(spec) : layoutInvoice(spec);
}

/** The document as a flatbed scan shows it. */
export function layoutScan(spec: DocumentSpec): Layout {
  return spec.kind === 'receipt' ? layoutReceiptScan(spec) : layoutInvoice(spec);
}

export function documentTruth(spec: DocumentSpec): ReceiptTruth | InvoiceTruth {
  return spec.kind === 'receipt' ? receiptTruth(spec) : invoiceTruth(spec);
}

/** The clean scan, as PNG. */
export async function renderDocument(spec: DocumentSpec, options: RenderOptions = {}): Promise<Buffer> {
  return rasterize(layoutScan(spec), options);
}

/** A clean scan: the rendered page as JPEG q90 or PNG. */
export async function cleanScan(spec: DocumentSpec, format: 'jpg' | 'png'): Promise<Buffer> {
  const png = await renderDocument(spec);
  return format === 'png' ? png : sharp(png).jpeg({ quality: 90 }).toBuffer();
}

export const PHOTO_WIDTH = 4000;
export const PHOTO_HEIGHT = 3000;

const DESKS: readonly (readonly [number, number, number, 'wood' | 'plain'])[] = [
  [142, 98, 62, 'wood'],
  [118, 78, 48, 'wood'],
  [112, 112, 108, 'plain'],
  [62, 68, 78, 'plain'],
  [196, 182, 156, 'plain'],
  [58, 92, 80, 'plain'],
];

/** A 4000×3000 desk: a base colour modulated by soft blotches and (for wood) grain streaks. Raw RGB. */
async function deskBackground(rng: Rng): Promise<Buffer> {
  const [r, g, b, texture] = rng.pick(DESKS);
  const W = PHOTO_WIDTH;
  const H = PHOTO_HEIGHT;
  const blotches = await sharp(seededBytes(40 * 30, rng.int(0, 2 ** 31)), {
    raw: { width: 40, height: 30, channels: 1 },
  })
    .resize(W, H, { kernel: 'cubic' })
    .raw()
    .toBuffer();
  const grain =
    texture === 'wood'
      ? await sharp(seededBytes(24 * 600, rng.int(0, 2 ** 31)), {
          raw: { width: 24, height: 600, channels: 1 },
        })
          .resize(W, H, { kernel: 'cubic' })
          .raw()
          .toBuffer()
      : undefined;
  const out = Buffer.allocUnsafe(W * H * 3);
  for (let i = 0, p = 0; i < W * H; i++, p += 3) {
    let f = 1 + ((blotches[i]! - 128) / 128) * 0.1;
    if (grain) f += ((grain[i]! - 128) / 128) * 0.12;
    out[p] = clampByte(r * f);
    out[p + 1] = clampByte(g * f);
    out[p + 2] = clampByte(b * f);
  }
  return out;
}

const clampByte = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/**
 * A 12 MP phone-like photo of the document: rendered large, rotated by up to ±3°, with a
 * soft shadow, on a textured desk, under uneven warm lighting, with mild sensor noise.
 * 4000×3000 JPEG q90, no EXIF.
 */
export async function phonePhoto(spec: DocumentSpec, seed: number): Promise<Buffer> {
  const rng = new Rng(deriveSeed(seed, 0x9607));
  const W = PHOTO_WIDTH;
  const H = PHOTO_HEIGHT;
  const layout = layoutPaper(spec);
  const angle = rng.range(-3, 3);
  const rad = (Math.abs(angle) * Math.PI) / 180;
  const boxW = layout.width * Math.cos(rad) + layout.height * Math.sin(rad);
  const boxH = layout.width * Math.sin(rad) + layout.height * Math.cos(rad);
  const scale = Math.min((0.92 * H) / boxH, (0.8 * W) / boxW) * rng.range(0.9, 1);
  const doc = await rasterize(layout, { scale, paper: '#fbfaf5' });
  const rotated = await sharp(doc)
    .ensureAlpha()
    .rotate(angle, { background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width: rw, height: rh } = rotated.info;
  const alpha = Buffer.allocUnsafe(rw * rh);
  for (let i = 0; i < rw * rh; i++) alpha[i] = Math.round(rotated.data[i * 4 + 3]! * 0.55);
  const shadow = await sharp(Buffer.alloc(rw * rh * 3), { raw: { width: rw, height: rh, channels: 3 } })
    .joinChannel(alpha, { raw: { width: rw, height: rh, channels: 1 } })
    .blur(22)
    .png({ compressionLevel: 1 })
    .toBuffer();
  const docPng = await sharp(rotated.data, { raw: { width: rw, height: rh, channels: 4 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  const left = Math.round((W - rw) / 2 + rng.range(-0.35, 0.35) * (W - rw) * 0.5);
  const top = Math.round((H - rh) / 2 + rng.range(-0.35, 0.35) * (H - rh) * 0.5);
  const shadowDx = Math.round(rng.range(8, 28));
  const shadowDy = Math.round(rng.range(12, 36));
  const composed = await sharp(await deskBackground(rng), { raw: { width: W, height: H, channels: 3 } })
    .composite([
      {
        input: shadow,
        left: Math.min(W - rw, left + shadowDx),
        top: Math.min(H - rh, top + shadowDy),
      },
      { input: docPng, left, top },
    ])
    .removeAlpha()
    .raw()
    .toBuffer();

  // Uneven light: a linear falloff in a random direction times a vignette; warm tint; grain.
  const dir = rng.range(0, 2 * Math.PI);
  const dx = Math.cos(dir);
  const dy = Math.sin(dir);
  const strength = rng.range(0.12, 0.22);
  const fx = new Float32Array(W);
  const fy = new Float32Array(H);
  for (let x = 0; x < W; x++) {
    const u = x / W - 0.5;
    fx[x] = u * dx * strength * 2;
  }
  for (let y = 0; y < H; y++) {
    const v = y / H - 0.5;
    fy[y] = v * dy * strength * 2;
  }
  const vx = new Float32Array(W).map((_, x) => 1 - 0.18 * ((x / W - 0.5) * 2) ** 2);
  const vy = new Float32Array(H).map((_, y) => 1 - 0.18 * ((y / H - 0.5) * 2) ** 2);
  const tint = [1.0, rng.range(0.97, 0.99), rng.range(0.9, 0.95)] as const;
  const base = rng.range(0.9, 1.0);
  let state = rng.int(0, 2 ** 31) >>> 0;
  for (let y = 0, p = 0; y < H; y++) {
    for (let x = 0; x < W; x++, p += 3) {
      const light = (base + fx[x]! + fy[y]!) * vx[x]! * vy[y]!;
      state = (state + 0x6d2b79f5) >>> 0;
      let t = Math.imul(state ^ (state >>> 15), state | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const noise = ((((t ^ (t >>> 14)) >>> 0) & 0xff) - 127.5) / 127.5;
      const n = noise * 6;
      composed[p] = clampByte(composed[p]! * light * tint[0] + n);
      composed[p + 1] = clampByte(composed[p + 1]! * light * tint[1] + n);
      composed[p + 2] = clampByte(composed[p + 2]! * light * tint[2] + n);
    }
  }
  return sharp(composed, { raw: { width: W, height: H, channels: 3 } })
    .blur(0.6)
    .jpeg({ quality: 90 })
    .toBuffer();
}

/**
 * Pixels stored rotated with an EXIF orientation that puts them upright again:
 * 6 (display rotated 90° clockwise) stores the page rotated 90° counter-clockwise; 8 the reverse.
 */
export async function exifRotated(spec: DocumentSpec, orientation: 6 | 8): Promise<Buffer> {
  const png = await renderDocument(spec);
  return sharp(png)
    .rotate(orientation === 6 ? -90 : 90)
    .jpeg({ quality: 90 })
    .withMetadata({ orientation })
    .toBuffer();
}

/** The page on a transparent canvas, with a soft semi-transparent shadow: an RGBA PNG. */
export async function alphaPng(spec: DocumentSpec): Promise<Buffer> {
  const png = await rasterize(layoutPaper(spec));
  const { width, height } = await sharp(png).metadata();
  const margin = 48;
  const W = width + 2 * margin;
  const H = height + 2 * margin;
  const shadow = await sharp({
    create: { width: W, height: H, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .composite([
      {
        input: {
          create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0.35 } },
        },
        left: margin + 10,
        top: margin + 14,
      },
    ])
    .png()
    .toBuffer();
  return sharp(await sharp(shadow).blur(12).png().toBuffer())
    .composite([{ input: png, left: margin, top: margin }])
    .png()
    .toBuffer();
}

export type NearDuplicateMethod = 'resize70' | 'requality';

/** The same image, upright and flattened, re-encoded as JPEG: resized to 70 % (q85) or at q70. */
export async function nearDuplicate(bytes: Buffer, method: NearDuplicateMethod): Promise<Buffer> {
  const image = sharp(bytes, { autoOrient: true }).flatten({ background: '#ffffff' });
  if (method === 'requality') return image.jpeg({ quality: 70 }).toBuffer();
  const { width, height } = await sharp(bytes, { autoOrient: true }).metadata();
  return image
    .resize(Math.round(width * 0.7), Math.round(height * 0.7))
    .jpeg({ quality: 85 })
    .toBuffer();
}

export type NonDocumentKind = 'photo' | 'noise' | 'gradient';

/** Images with no text, for triage: a photo-like JPEG, RGB noise (JPEG), a smooth gradient (PNG). */
export async function nonDocument(kind: NonDocumentKind, seed: number): Promise<Buffer> {
  const rng = new Rng(deriveSeed(seed, 0x70d0));
  if (kind === 'photo') return photoLikeJpeg(1280, 960, rng.int(0, 2 ** 31), 88);
  if (kind === 'noise') {
    return sharp(seededBytes(512 * 384 * 3, rng.int(0, 2 ** 31)), {
      raw: { width: 512, height: 384, channels: 3 },
    })
      .jpeg({ quality: 85 })
      .toBuffer();
  }
  const colour = () => `rgb(${rng.int(0, 255)},${rng.int(0, 255)},${rng.int(0, 255)})`;
  const angle = rng.int(0, 359);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="900">
<defs><linearGradient id="g" gradientTransform="rotate(${angle} 0.5 0.5)">
<stop offset="0" stop-color="${colour()}"/><stop offset="1" stop-color="${colour()}"/></linearGradient></defs>
<rect width="1200" height="900" fill="url(#g)"/></svg>`;
  return serialiseSvg(() => sharp(Buffer.from(svg)).removeAlpha().png().toBuffer());
}

// ---------------------------------------------------------------------------------------------
// Workloads

export type Variant =
  | 'clean'
  | 'photo12mp'
  | 'exif-rotated'
  | 'alpha'
  | 'duplicate'
  | 'near-duplicate'
  | 'non-document';

export type Kind = 'receipt' | 'invoice' | NonDocumentKind;

export interface TruthRecord {
  input: string;
  sha256: string;
  pattern: 'receipt' | 'invoice' | null;
  relevant: boolean;
  variant: Variant;
  duplicate_of: string | null;
  truth: ReceiptTruth | InvoiceTruth | null;
}

/** One planned image; the plan is small (no pixels), the images are made one by one from it. */
export interface PlanEntry {
  index: number;
  kind: Kind;
  number: number;
  variant: Variant;
  seed: number;
  file: string;
  format: 'jpg' | 'png';
  orientation?: 6 | 8;
  nearMethod?: NearDuplicateMethod;
  /** Index of the original, for duplicates and near-duplicates. */
  source?: number;
}

export interface WorkloadCounts {
  /** Total number of images. */
  count: number;
  duplicates: number;
  nearDuplicates: number;
  irrelevant: number;
  photos12mp: number;
  rotated: number;
  alpha: number;
  /** Share of the documents that are invoices (the rest are receipts). */
  invoiceShare: number;
  seed: number;
}

/** The committed set: 8 receipts and 6 invoices (2 photos, 2 rotated, 1 alpha), 2 + 2 duplicates, 3 others. */
export const COMMITTED_SET: WorkloadCounts = {
  count: 21,
  duplicates: 2,
  nearDuplicates: 2,
  irrelevant: 3,
  photos12mp: 2,
  rotated: 2,
  alpha: 1,
  invoiceShare: 6 / 14,
  seed: 1,
};

function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer (got ${value})`);
  }
}

export function planWorkload(counts: WorkloadCounts): PlanEntry[] {
  for (const key of [
    'count',
    'duplicates',
    'nearDuplicates',
    'irrelevant',
    'photos12mp',
    'rotated',
    'alpha',
  ] as const) {
    checkCount(key, counts[key]);
  }
  if (!(counts.invoiceShare >= 0 && counts.invoiceShare <= 1)) {
    throw new RangeError(`invoiceShare must be between 0 and 1 (got ${counts.invoiceShare})`);
  }
  const documents = counts.count - counts.duplicates - counts.nearDuplicates - counts.irrelevant;
  if (documents < 1) {
    throw new RangeError(
      `count (${counts.count}) leaves no documents after ${counts.duplicates} duplicates, ${counts.nearDuplicates} near-duplicates and ${counts.irrelevant} irrelevant images`,
    );
  }
  if (counts.photos12mp + counts.rotated + counts.alpha > documents) {
    throw new RangeError(
      `photos12mp + rotated + alpha (${counts.photos12mp + counts.rotated + counts.alpha}) exceed the ${documents} documents`,
    );
  }
  const rng = new Rng(deriveSeed(counts.seed, 0x91a7));
  type Slot = 'doc' | 'dup' | 'near' | 'irr';
  const slots: Slot[] = rng.shuffle([
    ...Array<Slot>(documents).fill('doc'),
    ...Array<Slot>(counts.duplicates).fill('dup'),
    ...Array<Slot>(counts.nearDuplicates).fill('near'),
    ...Array<Slot>(counts.irrelevant).fill('irr'),
  ]);
  const firstDoc = slots.indexOf('doc');
  [slots[0], slots[firstDoc]] = [slots[firstDoc]!, slots[0]!];

  // Which documents are invoices, and which get the special variants (alternating kinds).
  const invoices = Math.round(documents * counts.invoiceShare);
  const docKinds = rng.shuffle([
    ...Array<'invoice'>(invoices).fill('invoice'),
    ...Array<'receipt'>(documents - invoices).fill('receipt'),
  ]);
  const receiptsAt = rng.shuffle(docKinds.flatMap((kind, i) => (kind === 'receipt' ? [i] : [])));
  const invoicesAt = rng.shuffle(docKinds.flatMap((kind, i) => (kind === 'invoice' ? [i] : [])));
  const interleaved: number[] = [];
  for (let i = 0; i < Math.max(receiptsAt.length, invoicesAt.length); i++) {
    if (i < receiptsAt.length) interleaved.push(receiptsAt[i]!);
    if (i < invoicesAt.length) interleaved.push(invoicesAt[i]!);
  }
  const docVariant = new Map<number, { variant: Variant; orientation?: 6 | 8 }>();
  let cursor = 0;
  for (let i = 0; i < counts.photos12mp; i++)
    docVariant.set(interleaved[cursor++]!, { variant: 'photo12mp' });
  for (let i = 0; i < counts.rotated; i++) {
    docVariant.set(interleaved[cursor++]!, { variant: 'exif-rotated', orientation: i % 2 === 0 ? 6 : 8 });
  }
  for (let i = 0; i < counts.alpha; i++) docVariant.set(interleaved[cursor++]!, { variant: 'alpha' });

  const digits = Math.max(3, String(counts.count).length);
  const numbers = new Map<Kind, number>();
  const nonDocKinds = rng.shuffle<NonDocumentKind>(['photo', 'noise', 'gradient']);
  const plan: PlanEntry[] = [];
  const docOriginals: number[] = [];
  const otherOriginals: number[] = [];
  let docCount = 0;
  let irrCount = 0;
  let nearCount = 0;
  const name = (kind: Kind, variant: Variant, format: string) => {
    const number = (numbers.get(kind) ?? 0) + 1;
    numbers.set(kind, number);
    const suffix: Record<Variant, string> = {
      clean: '',
      photo12mp: '-photo',
      'exif-rotated': '-rotated',
      alpha: '-alpha',
      duplicate: '-duplicate',
      'near-duplicate': '-near',
      'non-document': '',
    };
    return { number, file: `${kind}-${String(number).padStart(digits, '0')}${suffix[variant]}.${format}` };
  };
  // Duplicates and near-duplicates alternate between receipts and invoices while both exist.
  const lastKind = new Map<Slot, Kind>();
  const pickAlternating = (pool: number[], slot: Slot): PlanEntry => {
    const other = pool.filter((i) => plan[i]!.kind !== lastKind.get(slot));
    const picked = plan[rng.pick(other.length > 0 ? other : pool)]!;
    lastKind.set(slot, picked.kind);
    return picked;
  };
  slots.forEach((slot, index) => {
    const seed = deriveSeed(counts.seed, index, 0xd0c);
    if (slot === 'doc') {
      const kind = docKinds[docCount]!;
      const special = docVariant.get(docCount);
      docCount++;
      const variant = special?.variant ?? 'clean';
      const format: 'jpg' | 'png' =
        variant === 'alpha'
          ? 'png'
          : variant === 'clean' && rng.chance(kind === 'receipt' ? 0.3 : 0.5)
            ? 'png'
            : 'jpg';
      plan.push({
        index,
        kind,
        variant,
        seed,
        format,
        orientation: special?.orientation,
        ...name(kind, variant, format),
      });
      docOriginals.push(index);
    } else if (slot === 'irr') {
      const kind = nonDocKinds[irrCount++ % nonDocKinds.length]!;
      const format = kind === 'gradient' ? 'png' : 'jpg';
      plan.push({
        index,
        kind,
        variant: 'non-document',
        seed,
        format,
        ...name(kind, 'non-document', format),
      });
      otherOriginals.push(index);
    } else if (slot === 'dup') {
      const source =
        otherOriginals.length === 0 || rng.chance(0.8)
          ? pickAlternating(docOriginals, 'dup')
          : plan[rng.pick(otherOriginals)]!;
      plan.push({
        index,
        kind: source.kind,
        variant: 'duplicate',
        seed,
        format: source.format,
        source: source.index,
        ...name(source.kind, 'duplicate', source.format),
      });
    } else {
      const source = pickAlternating(docOriginals, 'near');
      plan.push({
        index,
        kind: source.kind,
        variant: 'near-duplicate',
        seed,
        format: 'jpg',
        source: source.index,
        nearMethod: nearCount++ % 2 === 0 ? 'resize70' : 'requality',
        ...name(source.kind, 'near-duplicate', 'jpg'),
      });
    }
  });
  return plan;
}

export function specFor(entry: PlanEntry): DocumentSpec | undefined {
  if (entry.kind === 'receipt') return makeReceiptSpec(entry.seed);
  if (entry.kind === 'invoice') return makeInvoiceSpec(entry.seed);
  return undefined;
}

/** The bytes of one original (not a duplicate) plan entry. */
export async function produceOriginal(entry: PlanEntry): Promise<Buffer> {
  const spec = specFor(entry);
  if (!spec) return nonDocument(entry.kind as NonDocumentKind, entry.seed);
  switch (entry.variant) {
    case 'photo12mp':
      return phonePhoto(spec, entry.seed);
    case 'exif-rotated':
      return exifRotated(spec, entry.orientation ?? 6);
    case 'alpha':
      return alphaPng(spec);
    default:
      return cleanScan(spec, entry.format);
  }
}

export interface WorkloadOptions extends WorkloadCounts {
  /** Output folder: images go to `<out>/images/`, the truth to `<out>/truth.jsonl`. */
  out: string;
  /** `input` paths are relative to this folder. Default: the current working directory. */
  pathBase?: string;
  /** Images made at once. Default 2. */
  concurrency?: number;
  onProgress?: (done: number, total: number, record: TruthRecord) => void;
}

export interface WorkloadResult {
  files: number;
  bytes: number;
  truthFile: string;
}

const GENERATED_NAME = /^(receipt|invoice|photo|noise|gradient)-\d+(-[a-z0-9]+)?\.(jpg|png)$/;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Plans and writes a workload: images one at a time through a bounded window, truth records
 * written in plan order as soon as they are contiguous. Files from an earlier run with the
 * generated naming scheme are removed first, so the folder always matches the truth file.
 */
export async function generateWorkload(options: WorkloadOptions): Promise<WorkloadResult> {
  const plan = planWorkload(options);
  const imagesDir = path.join(options.out, 'images');
  const truthFile = path.join(options.out, 'truth.jsonl');
  const base = options.pathBase ?? process.cwd();
  await mkdir(imagesDir, { recursive: true });
  for (const name of await readdir(imagesDir)) {
    if (GENERATED_NAME.test(name)) await rm(path.join(imagesDir, name));
  }
  const fileOf = (entry: PlanEntry) => path.join(imagesDir, entry.file);
  const inputOf = (entry: PlanEntry) => path.relative(base, fileOf(entry)).split(path.sep).join('/');

  const sources = new Set(plan.flatMap((entry) => (entry.source === undefined ? [] : [entry.source])));
  const originals = new Map<number, Promise<TruthRecord>>();
  let bytes = 0;

  const make = async (entry: PlanEntry): Promise<TruthRecord> => {
    if (entry.source !== undefined) {
      const original = await originals.get(entry.source)!;
      const sourceEntry = plan[entry.source]!;
      let sha = original.sha256;
      if (entry.variant === 'duplicate') {
        await copyFile(fileOf(sourceEntry), fileOf(entry));
        const size = (await stat(fileOf(entry))).size;
        bytes += size;
      } else {
        const data = await nearDuplicate(await readFile(fileOf(sourceEntry)), entry.nearMethod ?? 'resize70');
        await writeFile(fileOf(entry), data);
        bytes += data.length;
        sha = sha256(data);
      }
      return {
        ...original,
        input: inputOf(entry),
        sha256: sha,
        variant: entry.variant,
        duplicate_of: original.input,
      };
    }
    const data = await produceOriginal(entry);
    await writeFile(fileOf(entry), data);
    bytes += data.length;
    const spec = specFor(entry);
    return {
      input: inputOf(entry),
      sha256: sha256(data),
      pattern: spec?.kind ?? null,
      relevant: spec !== undefined,
      variant: entry.variant,
      duplicate_of: null,
      truth: spec ? documentTruth(spec) : null,
    };
  };

  const truth = createWriteStream(truthFile);
  const pending = new Map<number, TruthRecord>();
  let nextToWrite = 0;
  let done = 0;
  const run = (entry: PlanEntry): Promise<[number, TruthRecord]> => {
    const record = make(entry);
    if (sources.has(entry.index)) {
      originals.set(entry.index, record);
      record.catch(() => {});
    }
    return record.then((value) => [entry.index, value]);
  };
  try {
    for await (const [index, record] of mapWindow(plan, options.concurrency ?? 2, run)) {
      pending.set(index, record);
      options.onProgress?.(++done, plan.length, record);
      while (pending.has(nextToWrite)) {
        const line = `${JSON.stringify(pending.get(nextToWrite))}\n`;
        pending.delete(nextToWrite++);
        if (!truth.write(line)) await new Promise<void>((resolve) => truth.once('drain', () => resolve()));
      }
    }
  } finally {
    await new Promise<void>((resolve, reject) =>
      truth.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  }
  return { files: plan.length, bytes, truthFile };
}

// ---------------------------------------------------------------------------------------------
// CLI

const USAGE = `Usage: npx tsx samples/scripts/generate.ts [options]

Without --count: the committed sample set (8 receipts, 6 invoices, 2 duplicates,
2 near-duplicates, 3 non-documents) in samples/. With --count: a workload mix.

  --out DIR            output folder (images in DIR/images, truth in DIR/truth.jsonl; default samples)
  --count N            total images (switches to the workload mix)
  --seed S             seed (default 1)
  --dup F              fraction of exact duplicates (workload default 0.1)
  --near F             fraction of near-duplicates (workload default 0.05)
  --irrelevant F       fraction of non-document images (workload default 0.1)
  --invoices F         share of documents that are invoices (workload default 0.5)
  --photos-12mp K      number of 12 MP phone photos (workload default 2 % of count)
  --rotated K          number of EXIF-rotated scans (workload default 2 % of count)
  --alpha K            number of PNGs with alpha (workload default 1 % of count)
  --concurrency N      images made at once (default 2)
  --quiet              no progress lines
  -h, --help           this text`;

function parseNumber(name: string, raw: string | undefined, kind: 'int' | 'fraction'): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const ok =
    kind === 'int'
      ? Number.isInteger(value) && value >= 0
      : Number.isFinite(value) && value >= 0 && value <= 1;
  if (raw.trim() === '' || !ok) {
    throw new RangeError(
      `--${name} must be ${kind === 'int' ? 'a non-negative integer' : 'a fraction between 0 and 1'} (got "${raw}")`,
    );
  }
  return value;
}

export function parseCli(argv: string[]): (WorkloadOptions & { quiet: boolean }) | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      count: { type: 'string' },
      seed: { type: 'string' },
      dup: { type: 'string' },
      near: { type: 'string' },
      irrelevant: { type: 'string' },
      invoices: { type: 'string' },
      'photos-12mp': { type: 'string' },
      rotated: { type: 'string' },
      alpha: { type: 'string' },
      concurrency: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const count = parseNumber('count', values.count, 'int');
  const seed = parseNumber('seed', values.seed, 'int') ?? 1;
  const concurrency = parseNumber('concurrency', values.concurrency, 'int') ?? 2;
  if (concurrency < 1) throw new RangeError(`--concurrency must be at least 1 (got "${values.concurrency}")`);
  const base: WorkloadCounts =
    count === undefined
      ? { ...COMMITTED_SET, seed }
      : {
          count,
          seed,
          duplicates: Math.round(count * 0.1),
          nearDuplicates: Math.round(count * 0.05),
          irrelevant: Math.round(count * 0.1),
          photos12mp: Math.round(count * 0.02),
          rotated: Math.round(count * 0.02),
          alpha: Math.round(count * 0.01),
          invoiceShare: 0.5,
        };
  const fraction = (name: string, raw: string | undefined, fallback: number) => {
    const value = parseNumber(name, raw, 'fraction');
    return value === undefined ? fallback : Math.round(base.count * value);
  };
  return {
    ...base,
    duplicates: fraction('dup', values.dup, base.duplicates),
    nearDuplicates: fraction('near', values.near, base.nearDuplicates),
    irrelevant: fraction('irrelevant', values.irrelevant, base.irrelevant),
    invoiceShare: parseNumber('invoices', values.invoices, 'fraction') ?? base.invoiceShare,
    photos12mp: parseNumber('photos-12mp', values['photos-12mp'], 'int') ?? base.photos12mp,
    rotated: parseNumber('rotated', values.rotated, 'int') ?? base.rotated,
    alpha: parseNumber('alpha', values.alpha, 'int') ?? base.alpha,
    out: values.out === undefined ? path.join(REPO_ROOT, 'samples') : path.resolve(values.out),
    // The committed truth uses repo-relative paths wherever the script runs from.
    pathBase: values.out === undefined ? REPO_ROOT : process.cwd(),
    concurrency,
    quiet: values.quiet ?? false,
  };
}

async function main(): Promise<void> {
  let options: ReturnType<typeof parseCli>;
  try {
    options = parseCli(process.argv.slice(2));
    if (options !== 'help') planWorkload(options); // validates the mix before anything is written
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // Every operation here runs once: libvips' operation cache would only hold memory.
  sharp.cache(false);
  const started = Date.now();
  const every = Math.max(1, Math.round(options.count / 20));
  const result = await generateWorkload({
    ...options,
    onProgress: options.quiet
      ? undefined
      : (done, total, record) => {
          if (done % every === 0 || done === total)
            process.stderr.write(`${done}/${total} ${record.input}\n`);
        },
  });
  const mb = (result.bytes / 1e6).toFixed(1);
  process.stdout.write(
    `${result.files} images, ${mb} MB, truth in ${path.relative(process.cwd(), result.truthFile) || result.truthFile} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
