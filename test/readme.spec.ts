import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { ENV_VARIABLES } from '#libs/config';

describe('README', () => {
  const readme = readFileSync('README.md', 'utf8');

  it('documents every environment variable the apps read', () => {
    const missing = ENV_VARIABLES.filter(({ env, key }) => !readme.includes(`| \`${env}\` | \`${key}\` |`)).map(({ env }) => env);
    expect(missing).toEqual([]);
  });

  it('gives the two quick-start commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toMatch(/^npm test\b/m);
  });
});
