/**
 * `visionpipe pattern check FILE`: is this pattern right, and what will each provider be
 * asked for? The command's flags and help; what it does is actions/pattern-check.ts.
 */
import { Command } from 'commander';

export interface PatternCheckFlags {
  json?: boolean;
  sample?: string;
}

const CHECK_HELP = `
Reads the pattern the way \`run\` does (.json, .yaml or .yml; ImgGo's json_schema,
yaml_schema, xml_schema, csv_schema or plain_text_schema) and prints:
  - the normalised schema every output is checked against;
  - per provider, the rules its structured-output mode cannot take as schema keywords
    (they are sent as words in the field's description, and still checked on every answer);
  - what visionpipe cannot enforce at all (warnings).
An invalid pattern is one line, error [INVALID_PATTERN]: FILE: WHERE: WHAT.
--sample IMAGE also extracts from one image with the offline local engine and shows the
output (or the error record), so the pattern can be tried without an API key.

Examples:
  $ visionpipe pattern check samples/patterns/invoice.json
  $ visionpipe pattern check patterns/receipt.yaml --json
  $ visionpipe pattern check samples/patterns/receipt.yaml --sample samples/images/receipt-002.png

Exit codes: 0 valid (warnings allowed; with --sample: the sample gave an ok output),
1 valid but the --sample image failed (its error record is printed),
2 invalid pattern, missing file or bad option.`;

function checkCommand(): Command {
  return new Command('check')
    .description(
      'Validate a pattern; show its normalised schema, what each provider receives, what cannot be enforced',
    )
    .argument('<file>', 'pattern file (.json, .yaml, .yml)')
    .option('--json', 'print the report as JSON')
    .option('--sample <image>', 'also extract from this image with the local engine')
    .addHelpText('after', CHECK_HELP)
    .action(async (file: string, flags: PatternCheckFlags) => {
      const { patternCheck } = await import('./actions/pattern-check.js');
      process.exitCode = await patternCheck(file, flags);
    });
}

export function patternCommand(): Command {
  return new Command('pattern')
    .description('Work with pattern files')
    .addHelpText(
      'after',
      '\nExamples:\n  $ visionpipe pattern check samples/patterns/invoice.json\n  $ visionpipe pattern check receipt.yaml --sample receipt.jpg\n  $ visionpipe pattern check --help',
    )
    .addCommand(checkCommand());
}
