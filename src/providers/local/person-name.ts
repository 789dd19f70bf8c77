/**
 * Evidence for a person's name (`full_name`, `name`, `holder_name`, `candidate_name`, and a
 * prescription's `patient_name`, `prescriber_name`, `doctor_name`…):
 * the text must read as a name and sit where names are printed.
 *
 *   reads as a name   two to five name-like words (a capital then letters, an initial
 *                     "R.", or a particle: de, van, bin…); no digit; no word of a
 *                     heading, a section, a document title or a caption ("RESUME",
 *                     "CURRICULUM VITAE", "DRIVER LICENSE", "Router Properties",
 *                     "PAY THIS AMOUNT"); ranks and titles after a comma are cut
 *                     ("John R Doe, HM3,K USN" → "John R Doe")
 *   where             under or beside a name label ("Name", "Full name", "Surname"), or,
 *                     without one, the headline on top of a page that is a resume (two
 *                     or more resume section words and a contact: email or phone)
 *
 * Anything else is "not found" (null): a heading on top of a manual is not a person.
 */
import { fitName } from './fit-value.js';

/** Fields that hold a person's name (not an issuer, a party or a product). */
const PERSON_KEY =
  /^(full_?name|name|person_?name|holder(_?name)?|candidate(_?name)?|applicant(_?name)?|employee_?name|card_?holder(_?name)?|given_?names?|surname|first_?name|last_?name|patient(_?name)?|prescriber(_?name)?|doctor(_?name)?|physician(_?name)?)$/i;

/** Whether a field holds a person's name (`full_name`, `name`, `holderName`). */
export function isPersonField(key: string): boolean {
  return PERSON_KEY.test(key.replace(/([a-z])([A-Z])/g, '$1_$2'));
}

/**
 * Words never part of a person's name: document titles, resume and form sections, captions,
 * job titles, company forms, vehicle-plate and address words.
 */
const NOT_A_NAME = new Set(
  `resume résumé curriculum vitae cv biodata driver drivers driving license licence permit identity identification
  card passport national republic kingdom state department ministry government certificate birth date expires expiry
  issued class restrictions endorsements sex height weight eyes hair address signature holder chapter section page
  router properties variables controlled report table figure appendix introduction contents summary objective profile
  contact details experience experiences education skills skill languages language references reference projects
  project certifications interests hobbies employment work history professional personal information career
  achievements awards publications invoice receipt statement quote bill total amount pay paid due balance tax
  account number vehicle manufactured incomplete tires tyres gross weight rating axle company corporation ltd inc
  llc gmbh corp co agencies associates services solutions enterprise laptops city street road avenue california
  analyst engineer manager developer intern scientist designer consultant specialist assistant officer director
  remote senior junior data visualization machine learning deep with by of the and for to from in on at
  prescription rx patient doctor physician prescriber clinic hospital pharmacy medical medicine rank degree
  tablet tablets tab tabs capsule capsules cap caps syrup cream ointment injection drops solution suspension
  mg ml mcg dose dosage sig refill refills dispense disp generic substitution daily twice`
    .split(/\s+/)
    .filter(Boolean),
);

/** Lower-case particles inside names ("Ludwig van Beethoven", "Ana de Souza"). */
const PARTICLES = new Set([
  'de',
  'da',
  'di',
  'van',
  'von',
  'der',
  'den',
  'la',
  'le',
  'du',
  'dos',
  'del',
  'bin',
  'al',
]);

/** A name's word: a capital and letters (apostrophes and hyphens inside), or an initial. */
const NAME_WORD = /^\p{Lu}(\p{L}+(['’-]\p{L}+)*|\.)?$/u;

/**
 * `text` read as a person's name, or undefined. Titles after a comma are cut; what is left
 * must be 2–5 name-like words, none of them a heading's, title's or caption's word.
 */
export function fitPersonName(text: string): string | undefined {
  // A title before the name is not part of it ("Dr. Jack R. Frost" → "Jack R. Frost").
  const untitled = (text.split(',')[0] ?? '').replace(/^\s*(dr|mr|mrs|ms|prof)\.?\s+/i, '');
  const base = fitName(untitled);
  if (base === undefined) return undefined;
  const tokens = base.split(/\s+/);
  if (tokens.length < 2 || tokens.length > 5 || /\d/.test(base)) return undefined;
  let named = 0;
  for (const token of tokens) {
    const bare = token.replace(/\.$/, '');
    if (NOT_A_NAME.has(bare.toLowerCase())) return undefined;
    if (PARTICLES.has(token)) continue;
    if (!NAME_WORD.test(token)) return undefined;
    if (bare.length > 1) named++;
  }
  return named >= 2 ? base : undefined;
}

/** Section words of a resume (two or more on a page, with a contact, make it one). */
const RESUME_SECTION =
  /\b(experience|education|skills|summary|objective|profile|projects|employment|languages|certifications|references|interests|hobbies|achievements|work history|curriculum vitae|resume)\b/gi;

/** Whether a page's text is a resume: two or more of its section words, and an email or a phone. */
export function looksLikeResume(pageText: string): boolean {
  const sections = new Set((pageText.match(RESUME_SECTION) ?? []).map((w) => w.toLowerCase()));
  const contact = /[\w.+-]+@[\w-]+\.[a-z]{2,}|\+?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}/i.test(pageText);
  return sections.size >= 2 && contact;
}
