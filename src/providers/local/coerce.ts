/**
 * Turning OCR text into typed values: amounts with currency symbols and either
 * thousands convention, dates in the formats documents use (normalised to ISO 8601),
 * booleans. Each parser returns undefined when the text is not a value of its type, so
 * the extractor can try the next candidate.
 */

const CURRENCY = /[$€£¥₹]|\b(?:usd|eur|gbp|jpy|chf|cad|aud|inr)\b/gi;

/** Characters OCR confuses inside numbers. */
const DIGIT_LOOKALIKES: Record<string, string> = {
  O: '0',
  o: '0',
  D: '0',
  l: '1',
  I: '1',
  '|': '1',
  S: '5',
  B: '8',
};

/**
 * The first amount in `text`: `$1,699.48`, `1.234,56 €`, `£ 99.00`, `(12.00)` (negative),
 * `1'234.50`. A lone separator followed by exactly three digits is a thousands separator.
 */
export function parseNumber(text: string): number | undefined {
  const candidates = findNumbers(text);
  return candidates[0];
}

/** Every amount in `text`, left to right. */
export function findNumbers(text: string): number[] {
  // OCR often reads "$" as "S" right before an amount.
  const cleaned = text.replace(/\bS(?=\d)/g, '$').replace(CURRENCY, ' ');
  const found: number[] = [];
  // Starts and ends with a real digit; lookalikes only between digits ("1O5.00"), so a
  // "$" misread as "S" in front of an amount is not taken for a 5. No spaces inside:
  // "5500 10 5000" on one line is three numbers.
  // Never starts mid-word: "INV-10234" holds 10234, not -10234.
  const token = /(?<![\w.,])\(?(?:-(?=\d))?\d(?:[\d.,'OolIDSB|]*\d)?\)?/g;
  for (const match of cleaned.matchAll(token)) {
    const value = normaliseNumber(match[0]);
    if (value !== undefined) found.push(value);
  }
  return found;
}

function normaliseNumber(raw: string): number | undefined {
  const negative = /^\(.*\)$/.test(raw.trim()) || raw.trim().startsWith('-');
  let digits = raw.replace(/[()\-']/g, '');
  digits = digits.replace(/[OolIDSB|]/g, (c) => DIGIT_LOOKALIKES[c] ?? c);
  if (!/^[0-9.,]+$/.test(digits) || !/[0-9]/.test(digits)) return undefined;
  const lastDot = digits.lastIndexOf('.');
  const lastComma = digits.lastIndexOf(',');
  let normalised: string;
  if (lastDot !== -1 && lastComma !== -1) {
    // Both present: the later one is the decimal separator.
    const decimal = lastDot > lastComma ? '.' : ',';
    const thousands = decimal === '.' ? ',' : '.';
    normalised = digits.split(thousands).join('').replace(decimal, '.');
  } else if (lastDot !== -1 || lastComma !== -1) {
    const separator = lastDot !== -1 ? '.' : ',';
    const parts = digits.split(separator);
    const tail = parts[parts.length - 1]!;
    const isThousands = parts.length > 2 || (tail.length === 3 && parts[0] !== '0' && parts[0] !== '');
    normalised = isThousands ? parts.join('') : `${parts.slice(0, -1).join('')}.${tail}`;
  } else {
    normalised = digits;
  }
  const value = Number(normalised);
  if (!Number.isFinite(value)) return undefined;
  return negative ? -value : value;
}

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  sept: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

export type DayOrder = 'dmy' | 'mdy';

export interface DateMatch {
  iso: string;
  /** True when day and month could be swapped (both ≤ 12) and `order` decided. */
  ambiguous: boolean;
  /** Day/month order this match proves, when unambiguous numeric. */
  proves?: DayOrder;
}

function iso(year: number, month: number, day: number): string | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1) return undefined; // 31 February
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function fullYear(text: string): number {
  const year = Number(text);
  return text.length <= 2 ? 2000 + year : year;
}

/**
 * Dates in `text`: ISO `2024-03-15`, numeric `15/03/2024` `03-15-24` `15.03.2024`, and
 * with month names `Mar 15, 2024`, `15 March 2024`, `1-Jul-17`. Numeric dates whose day and month
 * are both ≤ 12 use `order` (the document's own convention when known).
 */
export function findDates(text: string, order: DayOrder = 'dmy'): DateMatch[] {
  const found: DateMatch[] = [];
  const lower = text.toLowerCase();
  for (const m of lower.matchAll(/\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b/g)) {
    const value = iso(Number(m[1]), Number(m[2]), Number(m[3]));
    if (value) found.push({ iso: value, ambiguous: false });
  }
  // Two-digit years only with / or . ("20-12-76" is a bank sort code more often than a date).
  for (const m of lower.matchAll(/\b(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})\b/g)) {
    if (m[4]!.length === 2 && m[2] === '-') continue;
    const a = Number(m[1]);
    const b = Number(m[3]);
    const year = fullYear(m[4]!);
    if (a > 12 && b <= 12) {
      const value = iso(year, b, a);
      if (value) found.push({ iso: value, ambiguous: false, proves: 'dmy' });
    } else if (b > 12 && a <= 12) {
      const value = iso(year, a, b);
      if (value) found.push({ iso: value, ambiguous: false, proves: 'mdy' });
    } else {
      const value = order === 'dmy' ? iso(year, b, a) : iso(year, a, b);
      if (value) found.push({ iso: value, ambiguous: a !== b });
    }
  }
  const month = '(jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\\.?';
  for (const m of lower.matchAll(
    new RegExp(`\\b${month}\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})\\b`, 'g'),
  )) {
    const value = iso(Number(m[3]), MONTHS[m[1]!]!, Number(m[2]));
    if (value) found.push({ iso: value, ambiguous: false });
  }
  for (const m of lower.matchAll(
    new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+${month},?\\s+(\\d{4})\\b`, 'g'),
  )) {
    const value = iso(Number(m[3]), MONTHS[m[2]!]!, Number(m[1]));
    if (value) found.push({ iso: value, ambiguous: false });
  }
  // "1-Jul-17", "01.Jan.2024": day, month name and year joined by dashes or dots.
  for (const m of lower.matchAll(new RegExp(`\\b(\\d{1,2})([-.])${month}\\2(\\d{4}|\\d{2})\\b`, 'g'))) {
    const value = iso(fullYear(m[4]!), MONTHS[m[3]!]!, Number(m[1]));
    if (value) found.push({ iso: value, ambiguous: false });
  }
  return found;
}

export function parseDate(text: string, order: DayOrder = 'dmy'): string | undefined {
  return findDates(text, order)[0]?.iso;
}

/**
 * The day/month order a document uses: proven by any unambiguous numeric date on it,
 * else guessed from its currency ($ → month first), else day first.
 */
export function documentDayOrder(fullText: string): DayOrder {
  for (const match of findDates(fullText, 'dmy')) if (match.proves) return match.proves;
  return /\$|\busd\b/i.test(fullText) ? 'mdy' : 'dmy';
}

const TRUE_WORDS = new Set([
  'yes',
  'y',
  'true',
  '✓',
  '✔',
  '☑',
  'x',
  '[x]',
  'present',
  'visible',
  'signed',
  'checked',
]);
const FALSE_WORDS = new Set(['no', 'n', 'false', '✗', '☐', '[]', 'none', 'absent', 'not', 'unsigned']);

/** A yes/no value from its first word ("Yes", "✓ signed", "No signature"). */
export function parseBoolean(text: string): boolean | undefined {
  const first =
    text
      .trim()
      .toLowerCase()
      .replace(/\[\s*\]/, '[]')
      .split(/[\s,.:;]+/)[0] ?? '';
  if (TRUE_WORDS.has(first)) return true;
  if (FALSE_WORDS.has(first)) return false;
  return undefined;
}

const SYMBOLS: Array<[string, string]> = [
  ['€', 'EUR'],
  ['£', 'GBP'],
  ['¥', 'JPY'],
  ['₹', 'INR'],
  ['$', 'USD'],
];

/**
 * Currency code or symbol in text → ISO 4217 code. A printed code wins; otherwise the
 * symbol printed most often (one "£" that OCR made of a smudge does not outvote six "$").
 */
export function findCurrency(text: string): string | undefined {
  const code = /\b(USD|EUR|GBP|JPY|CHF|CAD|AUD|NZD|SGD|HKD|INR|CNY|SEK|NOK|DKK|PLN|MXN|BRL|ZAR|AED)\b/.exec(
    text.toUpperCase(),
  );
  if (code) return code[1];
  let best: string | undefined;
  let bestCount = 0;
  for (const [symbol, iso] of SYMBOLS) {
    const count = text.split(symbol).length - 1;
    if (count > bestCount) {
      best = iso;
      bestCount = count;
    }
  }
  return best;
}
