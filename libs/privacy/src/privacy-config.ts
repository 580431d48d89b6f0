import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { PURPOSES, type Purpose } from './purposes.js';

export const LEGAL_BASES = ['contract', 'consent', 'legal_obligation', 'legitimate_interest'] as const;
export const SENSITIVITIES = ['low', 'medium', 'high'] as const;

export interface PurposeDefinition {
  basis: (typeof LEGAL_BASES)[number];
  description: string;
}

/** `account`: kept while a purpose of the value is live. `period`: also erased `hours` after the tag's reference timestamp. */
export type Retention = { kind: 'account'; text: string } | { kind: 'period'; hours: number; text: string };

export interface CategoryDefinition {
  description: string;
  sensitivity: (typeof SENSITIVITIES)[number];
  retention: Retention;
}

export interface PrivacyConfig {
  purposes: Record<Purpose, PurposeDefinition>;
  categories: Record<string, CategoryDefinition>;
}

export class PrivacyConfigError extends Error {
  override name = 'PrivacyConfigError';
}

/** config/privacy.yaml, or <CONFIG_DIR>/privacy.yaml. */
export function privacyConfigPath(configDir = process.env.CONFIG_DIR ?? 'config'): string {
  return join(resolve(configDir), 'privacy.yaml');
}

/** Reads and validates the purposes and categories; throws PrivacyConfigError naming the key. */
export function loadPrivacyConfig(path = privacyConfigPath()): PrivacyConfig {
  if (!existsSync(path)) throw new PrivacyConfigError(`Invalid privacy configuration: ${path} is missing`);
  return parsePrivacyConfig(parseYaml(readFileSync(path, 'utf8')), path);
}

export function parsePrivacyConfig(raw: unknown, source = 'privacy.yaml'): PrivacyConfig {
  const fail = (key: string, reason: string): never => {
    throw new PrivacyConfigError(`Invalid privacy configuration (${source}): ${key}: ${reason}`);
  };
  const root = asMapping(raw) ?? fail('(root)', 'must be a mapping with purposes and categories');
  for (const key of Object.keys(root)) if (key !== 'purposes' && key !== 'categories') fail(key, 'unknown key');
  const purposesRaw = asMapping(root.purposes) ?? fail('purposes', 'must be a mapping of purpose ids');
  for (const id of Object.keys(purposesRaw)) {
    if (!(PURPOSES as readonly string[]).includes(id)) fail(`purposes.${id}`, `unknown purpose; the purposes are ${PURPOSES.join(', ')}`);
  }
  const purposes = {} as Record<Purpose, PurposeDefinition>;
  for (const id of PURPOSES) {
    const entry = asMapping(purposesRaw[id]) ?? fail(`purposes.${id}`, 'is missing (every purpose of the contract must be described)');
    const basis = entry.basis;
    if (typeof basis !== 'string' || !(LEGAL_BASES as readonly string[]).includes(basis)) {
      fail(`purposes.${id}.basis`, `must be one of ${LEGAL_BASES.join(', ')}`);
    }
    if (id === 'service' && basis !== 'contract') fail('purposes.service.basis', 'must be contract');
    if (id !== 'service' && basis !== 'consent')
      fail(`purposes.${id}.basis`, 'must be consent (the contract makes it optional for the person)');
    purposes[id] = { basis: basis as PurposeDefinition['basis'], description: text(entry.description, `purposes.${id}.description`, fail) };
  }
  const categoriesRaw = asMapping(root.categories) ?? fail('categories', 'must be a mapping of category ids');
  const categories: Record<string, CategoryDefinition> = {};
  for (const [id, value] of Object.entries(categoriesRaw)) {
    if (!/^[a-z][a-z0-9_]*$/.test(id)) fail(`categories.${id}`, 'ids are lower_snake_case');
    const entry = asMapping(value) ?? fail(`categories.${id}`, 'must be a mapping with description, sensitivity, retention');
    const sensitivity = entry.sensitivity;
    if (typeof sensitivity !== 'string' || !(SENSITIVITIES as readonly string[]).includes(sensitivity)) {
      fail(`categories.${id}.sensitivity`, `must be one of ${SENSITIVITIES.join(', ')}`);
    }
    categories[id] = {
      description: text(entry.description, `categories.${id}.description`, fail),
      sensitivity: sensitivity as CategoryDefinition['sensitivity'],
      retention: parseRetention(entry.retention, `categories.${id}.retention`, fail),
    };
  }
  if (Object.keys(categories).length === 0) fail('categories', 'must name at least one category');
  return { purposes, categories };
}

function parseRetention(value: unknown, key: string, fail: (key: string, reason: string) => never): Retention {
  if (value === 'account') return { kind: 'account', text: 'while a purpose is live' };
  const match = typeof value === 'string' ? /^(\d+)([hd])$/.exec(value) : null;
  if (!match || Number(match[1]) <= 0) return fail(key, `"${String(value)}" is not "account", "<n>h" or "<n>d"`);
  const amount = Number(match[1]);
  return { kind: 'period', hours: match[2] === 'd' ? amount * 24 : amount, text: `${amount} ${match[2] === 'd' ? 'days' : 'hours'}` };
}

function text(value: unknown, key: string, fail: (key: string, reason: string) => never): string {
  if (typeof value !== 'string' || value.trim() === '') return fail(key, 'must be a non-empty text');
  return value.trim();
}

function asMapping(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
