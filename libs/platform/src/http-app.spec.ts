import { describe, expect, it } from '@jest/globals';
import { isAllowedOrigin } from './http-app.js';

describe('isAllowedOrigin (CORS for the console)', () => {
  it('allows pages from the API host name on another port, e.g. the console on fault-feedback', () => {
    expect(isAllowedOrigin('http://127.0.0.1:3001', '127.0.0.1:3000', [])).toBe(true);
    expect(isAllowedOrigin('https://service.example.com', 'service.example.com:3000', [])).toBe(true);
  });

  it('refuses other hosts unless listed, and anything malformed', () => {
    expect(isAllowedOrigin('http://evil.example', '127.0.0.1:3000', [])).toBe(false);
    expect(isAllowedOrigin('http://127.0.0.1.evil.example:3001', '127.0.0.1:3000', [])).toBe(false);
    expect(isAllowedOrigin('https://console.example.com', 'api.example.com', ['https://console.example.com'])).toBe(true);
    expect(isAllowedOrigin(undefined, '127.0.0.1:3000', [])).toBe(false);
    expect(isAllowedOrigin('null', '127.0.0.1:3000', [])).toBe(false);
    expect(isAllowedOrigin('http://127.0.0.1:3001', undefined, [])).toBe(false);
  });
});
