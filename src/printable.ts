/**
 * Text from elsewhere (an error body, a proxy's page) made safe to store and print: terminal
 * escape sequences and control characters removed, so a record or a log line never carries
 * a NUL, a bell or a colour change (trial of issue 10: a text/html 503 body put them in the
 * record's message). Line breaks and tabs stay (multi-line messages).
 */

/** ANSI/VT escape sequences: CSI (`ESC [ … final`), OSC (`ESC ] … BEL|ESC \`), and two-character escapes. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const ESCAPES = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])/g;
/** C0 controls but tab and line feed, DEL, and C1 controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `text` without escape sequences and control characters (tab and line feed kept). */
export function printable(text: string): string {
  return text.replace(ESCAPES, '').replace(CONTROLS, '');
}
