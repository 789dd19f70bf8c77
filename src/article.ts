/**
 * "a" or "an" before a word in messages, by how it is said: "an unspecified address", "an
 * integer", "an RFC 6145 address", but "a unicast address", "a 6to4 address".
 */

/** Words whose first letter is a vowel said as a consonant ("a unique local", "a one-off"). */
const CONSONANT_SOUND = /^(uni|use|usu|eu|one)/i;
/** Letters said as a vowel when spelled out ("an RFC", "an MP", "an SVG", "an HTTP"): acronyms. */
const SPELLED_VOWEL_SOUND = /^(rfc|[fhlmnrsx][A-Z0-9]|[FHLMNRSX]$)/;

/** `word` with its indefinite article: `withArticle('unspecified')` → "an unspecified". */
export function withArticle(word: string): string {
  const an = (/^[aeiou]/i.test(word) && !CONSONANT_SOUND.test(word)) || SPELLED_VOWEL_SOUND.test(word);
  return `${an ? 'an' : 'a'} ${word}`;
}
