/** The six purposes of the public contract. Their texts live in config/privacy.yaml; the ids are fixed here. */
export const PURPOSES = ['service', 'network_setup', 'fault_diagnostics', 'repair_contact', 'marketing', 'product_improvement'] as const;
export type Purpose = (typeof PURPOSES)[number];

export function isPurpose(value: string): value is Purpose {
  return (PURPOSES as readonly string[]).includes(value);
}
