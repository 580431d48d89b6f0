/**
 * Log fields for an error: the error itself and its machine code (a Node
 * `ECONNREFUSED`, PostgreSQL's SQLSTATE `57P01`, Redis' `NOAUTH`), which says
 * what failed and is never personal. The logger censors any key named `code`
 * (sign-in codes), so the code travels as `errorCode`.
 */
export function errorFields(error: unknown): { err: unknown; errorCode?: string } {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(code) ? { err: error, errorCode: code } : { err: error };
}
