// Lint keeps the shape of the tree: contexts talk through their library's door
// (index.ts), and SQL lives only in repositories and migrations.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const SQL_MESSAGE =
  "SQL and TypeORM queries live in *.repository.ts files (injectable, taking the caller's EntityManager) and migrations; call a repository.";
// TypeORM's query methods, on whatever holds them by its usual name (manager, tx, dataSource, repository, this.manager ...).
const TYPEORM_METHODS =
  '/^(find|findBy|findOne|findOneBy|findOneOrFail|findOneByOrFail|findAndCount|findAndCountBy|count|countBy|exists|existsBy|sum|average|minimum|maximum|insert|update|upsert|delete|save|remove|softDelete|softRemove|restore|increment|decrement|clear)$/';
const TYPEORM_HOLDERS = '/^(manager|entityManager|em|tx|dataSource|connection|repository|repo)$/';
const NO_SQL_OUTSIDE_REPOSITORIES = [
  { selector: "CallExpression[callee.property.name='query']", message: SQL_MESSAGE },
  { selector: "CallExpression[callee.property.name='createQueryBuilder']", message: SQL_MESSAGE },
  { selector: "CallExpression[callee.property.name='getRepository']", message: SQL_MESSAGE },
  { selector: `CallExpression[callee.property.name=${TYPEORM_METHODS}][callee.object.name=${TYPEORM_HOLDERS}]`, message: SQL_MESSAGE },
  {
    selector: `CallExpression[callee.property.name=${TYPEORM_METHODS}][callee.object.property.name=${TYPEORM_HOLDERS}]`,
    message: SQL_MESSAGE,
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'data/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.{ts,tsx}'],
    rules: {
      // A handler declared before the value it closes over is assigned is read-before-assign, not a missed const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/libs/*/src/**', '#libs/*/*'],
              message: 'Import a library through its door: #libs/<name> (libs/<name>/src/index.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    // Services and use-cases hold the rules; SQL lives in repositories, migrations and the database lib's own plumbing
    // (data source, embedded launcher, health check). Tests and benchmarks may query directly for setup and assertions.
    files: ['**/*.ts'],
    ignores: ['**/*.repository.ts', 'libs/database/src/**', 'test/**', '**/*.spec.ts', 'bench/**'],
    rules: { 'no-restricted-syntax': ['error', ...NO_SQL_OUTSIDE_REPOSITORIES] },
  },
  {
    // Tests assert on whatever JSON comes back.
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
