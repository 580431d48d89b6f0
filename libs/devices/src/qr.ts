import { isValidSn } from '#libs/mqtt-contract';

/**
 * The QR label payload: `APL1:<SN>:<CLAIM CODE>`.
 *
 * `APL1` names the format and its version; fields are separated by `:`, which
 * neither an SN nor a claim code can contain. Short on purpose, so the label's
 * QR stays small.
 */
const PREFIX = 'APL1';
const CLAIM_CODE = /^[0-9A-HJKMNP-TV-Z]{20}$/;

export interface QrPayload {
  sn: string;
  claimCode: string;
}

export function formatQrPayload(sn: string, claimCode: string): string {
  return `${PREFIX}:${sn}:${claimCode}`;
}

/** Reads a scanned label; undefined when it is not one of ours. Claim codes are read case-insensitively. */
export function parseQrPayload(text: string): QrPayload | undefined {
  if (typeof text !== 'string' || text.length > 200) return undefined;
  const parts = text.trim().split(':');
  if (parts.length !== 3 || parts[0].toUpperCase() !== PREFIX) return undefined;
  const [, sn, code] = parts;
  const claimCode = code.toUpperCase();
  if (!isValidSn(sn) || !CLAIM_CODE.test(claimCode)) return undefined;
  return { sn, claimCode };
}
