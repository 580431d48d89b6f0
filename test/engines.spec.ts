import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import semver from 'semver';

/**
 * package.json `engines` promises the Node versions the project runs on; it must not promise one
 * that an installed dependency refuses. Optional packages for other platforms are not installed
 * here, so they do not count.
 */
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
  packages: Record<string, { engines?: { node?: string }; optional?: boolean }>;
};
const promised = (JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines.node;

// Loaded only by Nest's FileTypeValidator (a dynamic import the apps never reach), so not a requirement.
const NEVER_LOADED = new Set(['file-type']);

describe('engines', () => {
  it('promises only Node versions every installed dependency accepts', () => {
    const refusing = Object.entries(lock.packages)
      .filter(([path, entry]) => path && !entry.optional && entry.engines?.node)
      .map(([path, entry]) => ({ name: path.replace(/^.*node_modules\//, ''), node: entry.engines!.node! }))
      .filter(({ name, node }) => !NEVER_LOADED.has(name) && semver.validRange(node) && !semver.subset(promised, node));
    expect(refusing).toEqual([]);
  });

  it('covers the Node versions CI runs the suite on (20 and 22 LTS), and the one running now', () => {
    for (const version of ['20.19.0', '22.13.0', process.versions.node])
      expect([version, semver.satisfies(version, promised)]).toEqual([version, true]);
  });
});
