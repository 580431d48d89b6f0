import { FIRMWARE_VERSION_PATTERN } from '#libs/mqtt-contract';

export type VersionParts = readonly [number, number, number];

/** `x.y.z` as three numbers, or null for anything else (devices may report free text). */
export function parseVersion(text: string | null | undefined): VersionParts | null {
  const match = typeof text === 'string' ? FIRMWARE_VERSION_PATTERN.exec(text) : null;
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

/** Numeric, part by part: 1.10.0 is newer than 1.9.0. Negative when a is older. */
export function compareVersions(a: VersionParts, b: VersionParts): number {
  for (let index = 0; index < 3; index += 1) {
    if (a[index] !== b[index]) return a[index] - b[index];
  }
  return 0;
}
