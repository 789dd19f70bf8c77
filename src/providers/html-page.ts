/**
 * An HTML error page (a proxy or gateway answered, not the API: nginx's limit_req and
 * limit_conn answer 503 with one) in a few words: its title or first heading, entities
 * decoded, said to be a page. The whole page was the record's message (trial of issue 10:
 * "HTTP 503: <html>…"); then titles kept `&amp;`, and one longer than the body's kept
 * prefix (no `</title>` in it) left only "(an HTML page …)".
 */

/** The longest title kept (characters); a longer one is cut with an ellipsis. */
const MAX_TITLE = 200;

/** The named entities of HTML error pages: XML's five, the space and the typography of titles. */
const NAMED: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  middot: '·',
  bull: '•',
  copy: '©',
  reg: '®',
  trade: '™',
};

/** `text` with `&name;`, `&#123;` and `&#x7B;` decoded; unknown names and invalid code points left as they are. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#\d{1,7}|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref[0] !== '#') return NAMED[ref] ?? NAMED[ref.toLowerCase()] ?? whole;
    const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
    return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff)
      ? String.fromCodePoint(code)
      : whole;
  });
}

/**
 * The page's title (or first heading) and that it is a page; undefined when `body` is not
 * an HTML page. The body may be a prefix of the page: a title with no end tag is read to
 * the body's end.
 */
export function htmlPageWords(body: string): string | undefined {
  if (!/^\s*<(!doctype html|html|head|body)\b/i.test(body)) return undefined;
  const heading = /<title[^>]*>([^<]*)/i.exec(body)?.[1] ?? /<h1[^>]*>([^<]*)/i.exec(body)?.[1];
  let words = decodeEntities(heading ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  if (words.length > MAX_TITLE) words = `${words.slice(0, MAX_TITLE).trimEnd()}…`;
  return `${words ? `${words} ` : ''}(an HTML page: a proxy or gateway in front of the API answered)`;
}
