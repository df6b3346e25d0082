// ESLint with typescript-eslint's type-checked rules (https://typescript-eslint.io/getting-started/typed-linting).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'test-output/**', '.data/**', 'web/**/*.js', '**/*.cjs', '**/*.mjs', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Unused names are errors, except those deliberately named with a leading underscore.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // botbuilder's overrides and our ports are async by contract; an implementation with nothing to await is still correct.
      '@typescript-eslint/require-await': 'off',
      // botbuilder types activity.type as string and ActivityTypes as an enum of the same strings.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
    },
  },
  {
    // Test doubles implement async ports without awaiting anything, and read JSON the bot sent back.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'dev/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/no-misused-promises': 'off',
      // Tests feed the bot control characters on purpose.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
);
