import { readFileSync, writeFileSync } from 'node:fs';
import { PersonalDataTagError, PrivacyConfigError, renderDatamap, replaceDatamap } from '#libs/privacy';
import { commandLine } from './cli.js';
import { buildCatalog } from './privacy-cli.js';

// `npm run privacy:datamap`: the record of processing, from the tags in the code, as Markdown.
// `npm run privacy:datamap -- --write` also refreshes the copy embedded in README.md.
const { values } = commandLine('usage: npm run privacy:datamap [-- --write]   (--write: also refresh the copy in README.md)', {
  write: { type: 'boolean' },
});
try {
  const datamap = renderDatamap(buildCatalog());
  if (values.write) {
    writeFileSync('README.md', replaceDatamap(readFileSync('README.md', 'utf8'), datamap));
    process.stderr.write('README.md datamap updated\n');
  }
  process.stdout.write(datamap);
} catch (error) {
  if (error instanceof PersonalDataTagError || error instanceof PrivacyConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
