import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { DATAMAP_COMMAND, embeddedDatamap, loadPrivacyConfig, PrivacyCatalog, renderDatamap } from '#libs/privacy';
import { PROVISIONING_ENTITIES } from '../apps/provisioning/src/privacy-entities.js';

describe('record of processing (datamap)', () => {
  it('the README embeds exactly what the code tags', () => {
    expect(PROVISIONING_ENTITIES.length).toBeGreaterThan(0); // importing them registers the tags
    const fromCode = renderDatamap(new PrivacyCatalog(loadPrivacyConfig()));
    const inReadme = embeddedDatamap(readFileSync('README.md', 'utf8'));
    if (inReadme !== fromCode) {
      throw new Error(
        `README.md's datamap (between <!-- privacy:datamap:start --> and <!-- privacy:datamap:end -->) is not what the code tags.\n` +
          `Run: ${DATAMAP_COMMAND}\n\nThe code says:\n${fromCode}`,
      );
    }
    expect(fromCode).toContain('| users | phone | phone | high | service |');
  });
});
